# Every third-party library comes from a Debian package installed by
# scripts/setup; nothing is fetched at configure or build time.

# KEELSON_STATIC_DEPS=ON links the C++ runtime and the C++ libraries
# (yaml-cpp, re2, Boost.System; spdlog and fmt header-only) into the
# binaries. Every `keelson render` is a process of its own, and loading and
# relocating the shared C++ libraries was about a third of rendering a
# small chart. Trade-off: fixes in those libraries need a rebuild, and the
# .deb no longer depends on their packages. C libraries (OpenSSL, zlib,
# libgit2) stay shared: libgit2 loads OpenSSL and zlib anyway,
# and they get security updates. Ignored with sanitizers and fuzzing.
option(KEELSON_STATIC_DEPS "Link the C++ runtime and C++ libraries statically (faster process start)" OFF)
if(KEELSON_STATIC_DEPS AND (KEELSON_SANITIZE OR KEELSON_FUZZ))
  message(STATUS "KEELSON_STATIC_DEPS is ignored with KEELSON_SANITIZE or KEELSON_FUZZ")
  set(KEELSON_STATIC_DEPS OFF)
endif()

find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(OpenSSL 3 REQUIRED)
if(KEELSON_STATIC_DEPS)
  add_link_options(-static-libstdc++ -static-libgcc)
  set(Boost_USE_STATIC_LIBS ON)
  # spdlog and fmt as headers: their shared libraries would load the
  # shared C++ runtime again.
  add_library(fmt::fmt INTERFACE IMPORTED)
  set_target_properties(fmt::fmt PROPERTIES INTERFACE_COMPILE_DEFINITIONS "FMT_HEADER_ONLY=1")
  add_library(spdlog::spdlog INTERFACE IMPORTED)
  set_target_properties(spdlog::spdlog PROPERTIES INTERFACE_COMPILE_DEFINITIONS "SPDLOG_FMT_EXTERNAL"
                        INTERFACE_LINK_LIBRARIES "fmt::fmt;Threads::Threads")
else()
  find_package(spdlog REQUIRED)
  find_package(fmt REQUIRED)
endif()
find_package(Boost 1.74 REQUIRED COMPONENTS system)
pkg_check_modules(LIBGIT2 REQUIRED IMPORTED_TARGET libgit2)
if(KEELSON_TESTS)
  find_package(GTest REQUIRED)
endif()

# yaml-cpp 0.7 exports a target without its include directory marked SYSTEM.
if(TARGET yaml-cpp AND NOT TARGET keelson::yaml-cpp)
  add_library(keelson_yaml_cpp INTERFACE)
  if(KEELSON_STATIC_DEPS)
    find_library(KEELSON_YAML_CPP_ARCHIVE libyaml-cpp.a REQUIRED)
    target_link_libraries(keelson_yaml_cpp INTERFACE ${KEELSON_YAML_CPP_ARCHIVE})
  else()
    target_link_libraries(keelson_yaml_cpp INTERFACE yaml-cpp)
  endif()
  target_include_directories(keelson_yaml_cpp SYSTEM INTERFACE ${YAML_CPP_INCLUDE_DIR})
  add_library(keelson::yaml-cpp ALIAS keelson_yaml_cpp)
endif()
