# Warnings for project code only; third-party headers come in as SYSTEM
# include directories through their imported targets, so they stay quiet.
add_library(keelson_warnings INTERFACE)
target_compile_options(keelson_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align
  -Woverloaded-virtual -Wimplicit-fallthrough -Wformat=2
  $<$<BOOL:${KEELSON_WERROR}>:-Werror>
  # g++ 12 reports -Wrestrict inside libstdc++'s string concatenation at -O2
  # and above, a known false positive (GCC bug 105329).
  $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>)
