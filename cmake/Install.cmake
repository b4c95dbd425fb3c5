# What `cmake --install` puts where, and the Debian package made of the same
# install (`cpack -G DEB` in the build folder). docs/operations.md, "Install".
include(GNUInstallDirs)

# Absolute, not under the prefix: the binary's default --config, the unit and
# the shipped ewsd.yaml all name /etc/ewsd, for prefix /usr and /usr/local alike.
set(EWSD_SYSCONFDIR "/etc" CACHE PATH "Folder that receives ewsd/ (ewsd.yaml, rules.d, templates)")
if(NOT IS_ABSOLUTE "${EWSD_SYSCONFDIR}")
  message(FATAL_ERROR "EWSD_SYSCONFDIR must be an absolute path, not '${EWSD_SYSCONFDIR}'")
endif()

# The binary is installed by daemon/CMakeLists.txt (bin/). The unit and the
# configuration are written at install time, when the prefix is known (--prefix,
# or /usr when CPack stages the package): the unit must name the installed
# binary, and an existing configuration must never be overwritten.
install(CODE "set(EWSD_SOURCE_DIR \"${PROJECT_SOURCE_DIR}\")
set(EWSD_BINARY_DIR \"${PROJECT_BINARY_DIR}\")
set(EWSD_SYSCONFDIR \"${EWSD_SYSCONFDIR}\")")
install(SCRIPT ${PROJECT_SOURCE_DIR}/cmake/InstallConfigFiles.cmake)

# Secrets for the unit's LoadCredential= lines: root only (systemd reads them
# as root and hands the service a private copy).
install(DIRECTORY DESTINATION ${EWSD_SYSCONFDIR}/ewsd/credentials
  DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE)

file(GLOB ewsd_docs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/*.md)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/ARCHITECTURE.md ${ewsd_docs} DESTINATION ${CMAKE_INSTALL_DOCDIR})

# --- The Debian package ------------------------------------------------------
# Every file under /etc/ewsd is a conffile: dpkg keeps an admin's edits on
# upgrade (and asks when the shipped default changed too).
file(GLOB_RECURSE ewsd_config_files CONFIGURE_DEPENDS RELATIVE ${PROJECT_SOURCE_DIR}/config
  ${PROJECT_SOURCE_DIR}/config/rules.d/* ${PROJECT_SOURCE_DIR}/config/templates/*)
list(SORT ewsd_config_files)
set(ewsd_conffiles "${EWSD_SYSCONFDIR}/ewsd/ewsd.yaml\n")
foreach(f IN LISTS ewsd_config_files)
  string(APPEND ewsd_conffiles "${EWSD_SYSCONFDIR}/ewsd/${f}\n")
endforeach()
file(CONFIGURE OUTPUT ${PROJECT_BINARY_DIR}/deb/conffiles CONTENT "${ewsd_conffiles}")
foreach(script postinst prerm postrm)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/deb/${script} ${PROJECT_BINARY_DIR}/deb/${script} COPYONLY)
endforeach()

# cpack (and `make install`) package what is built instead of building every
# target, tests and benchmarks included, first: build, then package.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)
set(EWSD_DEB_MAINTAINER "ewsd maintainers <root@localhost>" CACHE STRING
  "Maintainer field of the Debian package")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ewsd)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "early-warning daemon for schools")
# Lines of the control file's extended description (dpkg shows them as they are).
string(JOIN "\n" CPACK_PACKAGE_DESCRIPTION
  "ewsd watches a school district's attendance, grade and behavior data (CSV"
  "exports of the student information system), evaluates risk rules per student"
  "and refers struggling students to intervention specialists by email or"
  "webhook. It runs as a systemd service with a local SQLite state database.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${EWSD_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The libraries' packages come from dpkg-shlibdeps (dpkg-dev); adduser is for postinst.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${PROJECT_BINARY_DIR}/deb/conffiles ${PROJECT_BINARY_DIR}/deb/postinst
  ${PROJECT_BINARY_DIR}/deb/prerm ${PROJECT_BINARY_DIR}/deb/postrm)
# Maintainer scripts 0755, conffiles 0644, whatever the checkout's modes.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
