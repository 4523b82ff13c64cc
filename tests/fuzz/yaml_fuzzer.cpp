// Fuzzes the YAML parser and emitter: any input must parse or fail with an
// Error (never crash, hang or exhaust memory), and whatever parses must
// emit and parse back to the same tree.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "renderers/manifest/json.h"
#include "renderers/manifest/yaml.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace keelson;
  using namespace keelson::manifest;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ParseOptions options;
  options.file = "fuzz.yaml";
  options.max_nodes = 100'000;
  options.max_alias_bytes = 1u << 20;
  Result<std::vector<Node>> docs = ParseYamlStream(text, options);
  if (!docs.ok()) return 0;
  for (Node& doc : *docs) {
    // go-yaml prints a float with an integral value without a fraction
    // (-2.0 as "-2"), which reads back as an integer: compare numbers the
    // way a JSON round trip sees them.
    NormalizeJsonNumbers(doc);
    std::string emitted = EmitYaml(doc);
    Result<Node> again = ParseYaml(emitted, options);
    if (again.ok()) NormalizeJsonNumbers(*again);
    // Emitted text must always be valid YAML that reads back the same.
    if (!again.ok() || !(*again == doc)) {
      // Keys that are not valid UTF-8 or values written as !!binary do not
      // read back as the same string; everything else must.
      // go-yaml also writes a "<<" key unquoted, which reads back as a
      // merge key; byte compatibility wins over the round trip there.
      bool binary = emitted.find("!!binary") != std::string::npos;
      bool merge_key = emitted.find("<<") != std::string::npos;
      if (!binary && !merge_key) std::abort();
    }
  }
  return 0;
}
