# One INTERFACE target carries the project's warning and sanitizer flags.
add_library(ewsd_warnings INTERFACE)
target_compile_options(ewsd_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor)
if(EWSD_WERROR)
  target_compile_options(ewsd_warnings INTERFACE -Werror)
endif()

if(EWSD_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
