// values.schema.json: the renderer's own JSON reader and the draft-7
// validator, with values from the Helm values parser. The input is a schema,
// optionally followed by "\n---\n" and values YAML; without values, a fixed
// set of values of every type is checked. Crashes, leaks, undefined
// behaviour and hangs are the findings; rejections are fine.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "renderers/helm/schema.h"
#include "renderers/helm/values.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using keelson::helm::Value;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string_view schema = text;
  Value values = Value::NewMap({{"name", Value::String("web")},
                                {"replicas", Value::Float(3)},
                                {"enabled", Value::Bool(true)},
                                {"ports", Value::NewList({Value::Int64(80), Value::String("443")})},
                                {"image", Value::NewMap({{"tag", Value()}})}});
  if (std::size_t split = text.find("\n---\n"); split != std::string_view::npos) {
    schema = text.substr(0, split);
    auto parsed = keelson::helm::ParseValuesFile(text.substr(split + 5), "values.yaml");
    if (!parsed.ok()) return 0;
    values = *parsed;
  }
  auto verdict = keelson::helm::CheckValuesAgainstSchema(schema, values);
  (void)verdict;
  return 0;
}
