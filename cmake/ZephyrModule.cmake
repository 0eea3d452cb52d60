# zephyr_module(NAME PUBLIC_DEPS ... PRIVATE_DEPS ... TEST_DEPS ...)
#
# Defines the static library zephyr_NAME (alias Zephyr::NAME) from src/NAME/**.cpp with public headers in
# include/zephyr/NAME, its unit tests (tests/NAME/*_test.cpp, label "unit;NAME"), its integration tests
# (tests/NAME/integration/*_test.cpp, label "socket;NAME"), a self-containment check for every public header,
# and install rules.
set(_ZEPHYR_TEST_TARGETS "" CACHE INTERNAL "")

function(zephyr_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(zephyr_${name} STATIC ${ARG_SOURCES})
  add_library(Zephyr::${name} ALIAS zephyr_${name})
  target_include_directories(zephyr_${name}
    PUBLIC  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include> $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/include>
            $<INSTALL_INTERFACE:include>
    PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_compile_features(zephyr_${name} PUBLIC cxx_std_20)
  target_link_libraries(zephyr_${name} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  set_target_properties(zephyr_${name} PROPERTIES EXPORT_NAME ${name} POSITION_INDEPENDENT_CODE ON)
  install(TARGETS zephyr_${name} EXPORT ZephyrTargets ARCHIVE DESTINATION lib)
endfunction()

function(zephyr_module name)
  cmake_parse_arguments(ARG "" "" "PUBLIC_DEPS;PRIVATE_DEPS;TEST_DEPS;EXCLUDE;INTEGRATION_FIXTURES" ${ARGN})
  file(GLOB_RECURSE _srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/${name}/*.cpp)
  # EXCLUDE: regular expressions of sources left out (a driver switched off by its ZEPHYR_WITH_* option).
  foreach(_re IN LISTS ARG_EXCLUDE)
    list(FILTER _srcs EXCLUDE REGEX "${_re}")
  endforeach()
  zephyr_library(${name} SOURCES ${_srcs} PUBLIC_DEPS ${ARG_PUBLIC_DEPS} PRIVATE_DEPS ${ARG_PRIVATE_DEPS})

  if(NOT ZEPHYR_BUILD_TESTS)
    return()
  endif()

  # Every public header must compile on its own (Beast's self-containment check).
  file(GLOB_RECURSE _headers CONFIGURE_DEPENDS RELATIVE ${PROJECT_SOURCE_DIR}/include
       ${PROJECT_SOURCE_DIR}/include/zephyr/${name}/*.hpp)
  set(_checks "")
  foreach(h IN LISTS _headers)
    string(MAKE_C_IDENTIFIER "${h}" _id)
    set(_tu ${PROJECT_BINARY_DIR}/header_check/${_id}.cpp)
    if(NOT EXISTS ${_tu})
      file(WRITE ${_tu} "#include <${h}>\n")
    endif()
    list(APPEND _checks ${_tu})
  endforeach()
  if(_checks)
    add_library(zephyr_${name}_header_check OBJECT ${_checks})
    target_link_libraries(zephyr_${name}_header_check PRIVATE zephyr_${name})
  endif()

  file(GLOB _unit CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/${name}/*_test.cpp)
  file(GLOB _integ CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/${name}/integration/*_test.cpp)
  foreach(kind unit integration)
    if(kind STREQUAL "unit")
      set(_files ${_unit})
      set(_target zephyr_${name}_tests)
      set(_labels "unit,${name}")
      set(_fixtures "")
    else()
      set(_files ${_integ})
      set(_target zephyr_${name}_integration_tests)
      set(_labels "socket,${name}")
      # INTEGRATION_FIXTURES: ctest fixtures (real services) the integration tests need.
      set(_fixtures "${ARG_INTEGRATION_FIXTURES}")
    endif()
    if(NOT _files)
      continue()
    endif()
    add_executable(${_target} ${_files})
    target_include_directories(${_target} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
    target_link_libraries(${_target} PRIVATE zephyr_${name} ${ARG_TEST_DEPS} GTest::gtest GTest::gtest_main
                          ${ARG_PRIVATE_DEPS})
    string(REPLACE ";" "," _fixtures "${_fixtures}")
    set(_ZEPHYR_TEST_TARGETS "${_ZEPHYR_TEST_TARGETS};${_target}|${_labels}|${_fixtures}" CACHE INTERNAL "")
  endforeach()
endfunction()

# Test targets may link Zephyr::testing, which is defined after the modules; discovery happens here.
function(zephyr_finish_tests)
  foreach(entry IN LISTS _ZEPHYR_TEST_TARGETS)
    if(entry STREQUAL "")
      continue()
    endif()
    string(REPLACE "|" ";" parts "${entry}")
    list(GET parts 0 target)
    list(GET parts 1 labels)
    # One label per test, "unit:http": gtest_discover_tests cannot pass a list-valued property, and since
    # `ctest -L` takes a regular expression, `-L unit` and `-L http` both select it.
    list(LENGTH parts _n)
    set(fixtures "")
    if(_n GREATER 2)
      list(GET parts 2 fixtures)
    endif()
    string(REPLACE "," ":" labels "${labels}")
    if(fixtures)
      string(REPLACE "," ";" fixtures "${fixtures}")
      gtest_discover_tests(${target} DISCOVERY_TIMEOUT 30
                           PROPERTIES LABELS "${labels}" TIMEOUT 300 FIXTURES_REQUIRED "${fixtures}")
    else()
      gtest_discover_tests(${target} DISCOVERY_TIMEOUT 30 PROPERTIES LABELS "${labels}" TIMEOUT 120)
    endif()
  endforeach()
endfunction()
