# KEELSON_SANITIZE=ON builds everything (tests included) with ASan and UBSan;
# any UBSan report aborts so that ctest sees it as a failure.
if(KEELSON_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer -O1)
  add_link_options(-fsanitize=address,undefined)
endif()

# KEELSON_FUZZ=ON (clang only) instruments the libraries for coverage-guided
# fuzzing; the fuzz targets in tests/fuzz add -fsanitize=fuzzer at link time.
if(KEELSON_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "KEELSON_FUZZ needs clang (CXX=clang++)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
