// Fuzzes the Kustomize renderer: the input is split at "\n#file\n" markers
// into a kustomization.yaml and up to three resource/patch files
// (a.yaml, b.yaml, base/kustomization.yaml). Any input must build or fail
// with an Error: never crash, hang or read outside the in-memory tree.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "renderers/kustomize/kustomize.h"
#include "renderers/manifest/filesystem.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace keelson;
  if (size > 64 * 1024) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  static constexpr std::string_view kNames[] = {"kustomization.yaml", "a.yaml", "b.yaml",
                                                "base/kustomization.yaml"};
  manifest::MemoryFileSystem fs;
  std::size_t part = 0;
  while (part < std::size(kNames)) {
    std::size_t cut = text.find("\n#file\n");
    fs.AddFile(std::string(kNames[part]), std::string(text.substr(0, cut)));
    ++part;
    if (cut == std::string_view::npos) break;
    text = text.substr(cut + 7);
  }
  kustomize::BuildLimits limits;
  limits.max_resources = 1000;
  Result<std::string> out = kustomize::RenderKustomizationYaml(fs, "", limits);
  (void)out;
  return 0;
}
