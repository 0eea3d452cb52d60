include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(DIRECTORY include/zephyr DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_BINARY_DIR}/include/zephyr/config.hpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/zephyr)
install(EXPORT ZephyrTargets NAMESPACE Zephyr:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Zephyr)
configure_package_config_file(cmake/ZephyrConfig.cmake.in ${PROJECT_BINARY_DIR}/ZephyrConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Zephyr)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/ZephyrConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/ZephyrConfig.cmake ${PROJECT_BINARY_DIR}/ZephyrConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Zephyr)
