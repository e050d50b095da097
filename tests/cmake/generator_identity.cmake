# Shared by the generator-hash tests: runs the build's hash step (${SCRIPT}, cmake/hash_generators.cmake)
# over the files INPUTS ("a|b|...") below ROOT and sets <out> to the CUDA identity it writes, and
# <out>_text to the whole generated file.
function(generator_identity out root inputs)
  execute_process(COMMAND ${CMAKE_COMMAND} "-DOUTPUT=${WORK}/out.cpp" "-DROOT=${root}"
                          "-DCUDA_INPUTS=${inputs}" "-DCPU_INPUTS=${inputs}" -P "${SCRIPT}"
                  RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "hash_generators.cmake failed (${_rc})")
  endif()
  file(READ "${WORK}/out.cpp" _text)
  string(REGEX MATCH "kCudaHash\\[\\] = \"([0-9a-f]+)\"" _ "${_text}")
  set(${out} "${CMAKE_MATCH_1}" PARENT_SCOPE)
  set(${out}_text "${_text}" PARENT_SCOPE)
endfunction()
