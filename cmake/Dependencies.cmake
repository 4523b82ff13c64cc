# Every third-party library comes from a Debian package installed by
# scripts/setup; nothing is fetched at configure or build time.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(OpenSSL 3 REQUIRED)
find_package(spdlog REQUIRED)
find_package(fmt REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS system)
pkg_check_modules(LIBGIT2 REQUIRED IMPORTED_TARGET libgit2)
pkg_check_modules(LIBSYSTEMD REQUIRED IMPORTED_TARGET libsystemd)
if(KEELSON_TESTS)
  find_package(GTest REQUIRED)
endif()

# yaml-cpp 0.7 exports a target without its include directory marked SYSTEM.
if(TARGET yaml-cpp AND NOT TARGET keelson::yaml-cpp)
  add_library(keelson_yaml_cpp INTERFACE)
  target_link_libraries(keelson_yaml_cpp INTERFACE yaml-cpp)
  target_include_directories(keelson_yaml_cpp SYSTEM INTERFACE ${YAML_CPP_INCLUDE_DIR})
  add_library(keelson::yaml-cpp ALIAS keelson_yaml_cpp)
endif()
