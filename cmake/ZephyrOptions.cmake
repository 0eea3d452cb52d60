# Every switch Zephyr understands. Build switches first, feature switches after.
include(CMakeDependentOption)

if(CMAKE_SOURCE_DIR STREQUAL PROJECT_SOURCE_DIR)
  set(_zephyr_top ON)
else()
  set(_zephyr_top OFF)
endif()

option(BUILD_TESTING "Build tests" ${_zephyr_top})
cmake_dependent_option(ZEPHYR_BUILD_TESTS "Build Zephyr's tests" ON "BUILD_TESTING" OFF)
option(ZEPHYR_BUILD_EXAMPLES "Build the examples" ${_zephyr_top})
option(ZEPHYR_BUILD_BENCH "Build the benchmarks (bench/)" ${_zephyr_top})
option(ZEPHYR_BUILD_FUZZERS "Build the libFuzzer targets (needs clang)" OFF)
set(ZEPHYR_SANITIZE "" CACHE STRING "Sanitizers to build with, e.g. address,undefined")
option(ZEPHYR_WERROR "Treat warnings as errors" ${_zephyr_top})

# Feature switches. SQLite is the embedded default and always part of the db module.
option(ZEPHYR_WITH_POSTGRES "PostgreSQL driver (libpq)" ON)
option(ZEPHYR_WITH_MYSQL "MariaDB/MySQL driver (libmariadb)" ON)

if(ZEPHYR_BUILD_TESTS AND NOT BUILD_TESTING)
  set(ZEPHYR_BUILD_TESTS OFF)
endif()

add_compile_options(-Wall -Wextra -Wpedantic)
if(ZEPHYR_WERROR)
  add_compile_options(-Werror)
endif()
if(ZEPHYR_SANITIZE)
  add_compile_options(-fsanitize=${ZEPHYR_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang" AND ZEPHYR_SANITIZE MATCHES "undefined")
    # clang 14's -fsanitize=function cannot compile coroutines ("cannot represent a difference across sections").
    add_compile_options(-fno-sanitize=function)
  endif()
  add_link_options(-fsanitize=${ZEPHYR_SANITIZE})
endif()
