# `cmake --install` of the C++ library: the static library, the public headers (include/robocache/)
# and a CMake package, so a consumer writes find_package(robocache CONFIG REQUIRED) and links
# robocache::robocache. Internal headers are not installed. Off for the Python wheel
# (ROBOCACHE_INSTALL=OFF, see pyproject.toml), which installs only the extension module.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(ROBOCACHE_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/robocache"
    CACHE STRING "Where the robocache CMake package is installed, relative to the prefix")

# The include directory comes with the target (INSTALL_INTERFACE in the top-level CMakeLists.txt).
install(TARGETS robocache EXPORT robocacheTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/robocache DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h")
install(EXPORT robocacheTargets NAMESPACE robocache:: DESTINATION ${ROBOCACHE_INSTALL_CMAKEDIR})

# What robocacheConfig.cmake needs to find the private link dependencies again. LLVM is only a
# dependency when the CPU backend was built; its directory is a hint, the usual places follow.
set(ROBOCACHE_CONFIG_HAVE_LLVM ${ROBOCACHE_HAVE_LLVM})
set(ROBOCACHE_CONFIG_HAVE_CUDA ${ROBOCACHE_HAVE_CUDA})
set(ROBOCACHE_CONFIG_LLVM_DIR "${LLVM_DIR}")
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/robocacheConfig.cmake.in
  ${PROJECT_BINARY_DIR}/robocacheConfig.cmake
  INSTALL_DESTINATION ${ROBOCACHE_INSTALL_CMAKEDIR})
# 0.x: minor versions may break the API, so a consumer asking for 0.1 gets 0.1.*.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/robocacheConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/robocacheConfig.cmake ${PROJECT_BINARY_DIR}/robocacheConfigVersion.cmake
        DESTINATION ${ROBOCACHE_INSTALL_CMAKEDIR})
