# cmake -DSCRIPT=cmake/hash_generators.cmake -DWORK=<scratch dir> -P hash_generators_test.cmake
# Runs the build's generator-hash step on a scratch tree and checks that any change to a
# generator's text, or a new generator file, changes the identity the cache key folds in.
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}/src")

function(identity out)
  file(GLOB _files "${WORK}/src/*")
  list(JOIN _files "|" _inputs)
  execute_process(COMMAND ${CMAKE_COMMAND} "-DOUTPUT=${WORK}/out.cpp" "-DROOT=${WORK}"
                          "-DCUDA_INPUTS=${_inputs}" "-DCPU_INPUTS=${_inputs}" -P "${SCRIPT}"
                  RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "hash_generators.cmake failed (${_rc})")
  endif()
  file(READ "${WORK}/out.cpp" _text)
  string(REGEX MATCH "kCudaHash\\[\\] = \"([0-9a-f]+)\"" _ "${_text}")
  set(${out} "${CMAKE_MATCH_1}" PARENT_SCOPE)
  set(${out}_text "${_text}" PARENT_SCOPE)
endfunction()

file(WRITE "${WORK}/src/gen.cpp" "emit(a + b);\n")
identity(first)
string(LENGTH "${first}" _length)
if(NOT first MATCHES "^[0-9a-f]+$" OR NOT _length EQUAL 64)
  message(FATAL_ERROR "no SHA-256 identity in the generated file:\n${first_text}")
endif()
identity(again)
if(NOT again STREQUAL first)
  message(FATAL_ERROR "the identity of unchanged files changed: ${first} then ${again}")
endif()

file(WRITE "${WORK}/src/gen.cpp" "emit(a - b);\n")
identity(edited)
if(edited STREQUAL first)
  message(FATAL_ERROR "editing a generator file left the identity unchanged (${first})")
endif()

file(WRITE "${WORK}/src/new.cuh" "// a new template\n")
identity(added)
if(added STREQUAL edited)
  message(FATAL_ERROR "adding a generator file left the identity unchanged (${edited})")
endif()
if(NOT added_text MATCHES "\"src/new.cuh\"")
  message(FATAL_ERROR "the new file is not listed among the hashed files:\n${added_text}")
endif()
file(REMOVE_RECURSE "${WORK}")
