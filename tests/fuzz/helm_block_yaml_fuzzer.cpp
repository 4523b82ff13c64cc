// Differential fuzzing of the Helm renderer's fast YAML reader: whenever it
// accepts a text, the full parser must accept it too and build the same
// first document (and the head-only reading must agree). Any disagreement
// aborts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "renderers/helm/block_yaml.h"
#include "renderers/manifest/yaml.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using keelson::manifest::Node;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (bool resolve_keys : {true, false}) {
    keelson::manifest::ParseOptions options;
    options.schema = keelson::manifest::Schema::kYaml11;
    options.resolve_plain_keys = resolve_keys;
    auto fast = keelson::helm::TryParseBlockYaml(text, options);
    auto head = keelson::helm::TryParseBlockYamlHead(text, options);
    if (fast.has_value() != head.has_value()) std::abort();
    if (!fast) continue;
    auto full = keelson::manifest::ParseYamlStream(text, options);
    if (!full.ok()) std::abort();
    Node first = full->empty() ? Node() : (*full)[0];
    if (!(first == *fast)) std::abort();
    if (fast->IsMapping()) {
      for (const char* key : {"kind", "metadata"}) {
        const Node* a = fast->Find(key);
        const Node* b = head->Find(key);
        if ((a == nullptr) != (b == nullptr) || (a != nullptr && !(*a == *b))) std::abort();
      }
    }
  }
  return 0;
}
