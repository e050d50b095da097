# cmake -DSCRIPT=cmake/hash_generators.cmake -DROOT=<source dir> -DFILES="a|b|..." -DWORK=<scratch dir>
#       -P hash_generators_every_file_test.cmake
# FILES are the build's real generator files and templates (both backends, as compiler/CMakeLists.txt
# globs them). Copies them into a scratch tree, then edits each in turn: every single edit must
# change the identity the cache key folds in, so no generator file or template can change a kernel
# while old cache entries stay valid.
file(REMOVE_RECURSE "${WORK}")
string(REPLACE "|" ";" _files "${FILES}")
list(LENGTH _files _count)
if(_count LESS 10)
  message(FATAL_ERROR "only ${_count} generator files given; the build's list is missing")
endif()
set(_copies "")
foreach(_path IN LISTS _files)
  file(RELATIVE_PATH _rel "${ROOT}" "${_path}")
  file(READ "${_path}" _text)
  file(WRITE "${WORK}/tree/${_rel}" "${_text}")
  list(APPEND _copies "${WORK}/tree/${_rel}")
endforeach()
list(JOIN _copies "|" _inputs)

include("${CMAKE_CURRENT_LIST_DIR}/generator_identity.cmake")
function(identity out)
  generator_identity(_id "${WORK}/tree" "${_inputs}")
  set(${out} "${_id}" PARENT_SCOPE)
endfunction()

identity(base)
foreach(_copy IN LISTS _copies)
  file(READ "${_copy}" _original)
  file(APPEND "${_copy}" " ")
  identity(edited)
  file(WRITE "${_copy}" "${_original}")
  if(edited STREQUAL base)
    file(RELATIVE_PATH _rel "${WORK}/tree" "${_copy}")
    message(FATAL_ERROR "editing ${_rel} left the generator identity unchanged (${base})")
  endif()
endforeach()
message(STATUS "each of ${_count} generator files changes the identity when edited")
file(REMOVE_RECURSE "${WORK}")
