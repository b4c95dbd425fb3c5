# Runs at install time (`cmake --install`, and CPack staging the package), after
# Install.cmake has set EWSD_SOURCE_DIR, EWSD_BINARY_DIR and EWSD_SYSCONFDIR.
#
# - The unit is written for the actual prefix (its ExecStart names the
#   installed binary) and always replaced: site settings belong in drop-ins.
# - The configuration (ewsd.yaml, rules.d/, templates/) goes to
#   ${EWSD_SYSCONFDIR}/ewsd, file by file, and a file that is already there
#   with other content is kept: an admin's edits survive every reinstall and
#   upgrade. A file new in this version is installed. The Debian package does
#   the same through dpkg's conffiles.

# The shipped files name /usr/bin/ewsd, /usr/share/doc/ewsd and /etc/ewsd.
function(ewsd_localize text_var)
  set(text "${${text_var}}")
  string(REPLACE "/usr/bin/ewsd" "${CMAKE_INSTALL_PREFIX}/bin/ewsd" text "${text}")
  string(REPLACE "/usr/share/doc/ewsd" "${CMAKE_INSTALL_PREFIX}/share/doc/ewsd" text "${text}")
  string(REPLACE "/etc/ewsd" "${EWSD_SYSCONFDIR}/ewsd" text "${text}")
  set(${text_var} "${text}" PARENT_SCOPE)
endfunction()

# A private staging folder per destination, so that installs into different
# places at the same time do not share files.
string(MD5 ewsd_stage_id "$ENV{DESTDIR}|${CMAKE_INSTALL_PREFIX}|${EWSD_SYSCONFDIR}")
set(ewsd_stage "${EWSD_BINARY_DIR}/install-stage/${ewsd_stage_id}")

# Writes the localized copy of `source` into the staging folder; sets `out_var`.
function(ewsd_stage_localized source out_var)
  file(READ "${source}" text)
  ewsd_localize(text)
  get_filename_component(name "${source}" NAME)
  set(staged "${ewsd_stage}/${name}")
  # Rewritten only when different, so that file(INSTALL) sees "Up-to-date".
  # (Not file(CONFIGURE): it would expand the ${...} the files contain.)
  if(EXISTS "${staged}")
    file(READ "${staged}" old)
  endif()
  if(NOT EXISTS "${staged}" OR NOT old STREQUAL text)
    file(WRITE "${staged}" "${text}")
  endif()
  set(${out_var} "${staged}" PARENT_SCOPE)
endfunction()

set(ewsd_file_mode OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

ewsd_stage_localized("${EWSD_SOURCE_DIR}/systemd/ewsd.service" ewsd_unit)
file(INSTALL "${ewsd_unit}" DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/systemd/system"
  PERMISSIONS ${ewsd_file_mode})

# Installs `file` as ${EWSD_SYSCONFDIR}/ewsd/`relative` unless a different file is there.
function(ewsd_install_config file relative)
  set(dest "${EWSD_SYSCONFDIR}/ewsd/${relative}")
  if(EXISTS "$ENV{DESTDIR}${dest}")
    file(SHA256 "$ENV{DESTDIR}${dest}" installed)
    file(SHA256 "${file}" shipped)
    if(NOT installed STREQUAL shipped)
      message(STATUS "Keeping: $ENV{DESTDIR}${dest} (it differs from this version's "
        "default, ${EWSD_SOURCE_DIR}/config/${relative})")
      return()
    endif()
  endif()
  get_filename_component(dir "${dest}" DIRECTORY)
  file(INSTALL "${file}" DESTINATION "${dir}" PERMISSIONS ${ewsd_file_mode})
endfunction()

ewsd_stage_localized("${EWSD_SOURCE_DIR}/config/ewsd.yaml" ewsd_yaml)
ewsd_install_config("${ewsd_yaml}" ewsd.yaml)
file(GLOB_RECURSE ewsd_config_files RELATIVE "${EWSD_SOURCE_DIR}/config"
  "${EWSD_SOURCE_DIR}/config/rules.d/*" "${EWSD_SOURCE_DIR}/config/templates/*")
list(SORT ewsd_config_files)
foreach(relative IN LISTS ewsd_config_files)
  ewsd_install_config("${EWSD_SOURCE_DIR}/config/${relative}" "${relative}")
endforeach()
