# keelson_library(NAME SOURCES ... DEPS ...): one static library per folder.
# Include paths are rooted at the repository top, so code writes
# #include "renderers/manifest/node.h".
function(keelson_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/generated)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE keelson_warnings)
endfunction()

# keelson_test(NAME SOURCES ... DEPS ... [LABELS ...]): one GoogleTest binary,
# registered with ctest test by test.
function(keelson_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main keelson_warnings)
  target_compile_definitions(${name} PRIVATE
    KEELSON_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    KEELSON_SHARED_DIR="${KEELSON_SHARED_DIR}"
    KEELSON_BINARY="$<TARGET_FILE:keelson>"
    KEELSON_BUILD_DIR="${PROJECT_BINARY_DIR}")
  add_dependencies(${name} keelson)
  set(timeout 300)
  if(ARG_TIMEOUT)
    set(timeout ${ARG_TIMEOUT})
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60
    PROPERTIES TIMEOUT ${timeout} LABELS "${ARG_LABELS}")
endfunction()
