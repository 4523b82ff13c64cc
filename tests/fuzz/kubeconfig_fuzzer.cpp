// Fuzzes what the cluster client reads from outside: kubeconfig files (any
// input parses or fails with an Error naming the file) and live objects
// handed to health assessment (any JSON object gets a verdict).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "agent/cluster/config.h"
#include "agent/cluster/health.h"
#include "renderers/manifest/json.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace keelson;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto no_files = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  Result<cluster::ConnectionConfig> config = cluster::ParseKubeconfig(text, "fuzz-kubeconfig", "", no_files);
  if (!config.ok() && config.error().where.file != "fuzz-kubeconfig") std::abort();
  Result<manifest::Node> object = manifest::ParseJson(text, "fuzz.json");
  if (object.ok()) {
    cluster::Health health = cluster::AssessHealth(*object);
    if (health.reason.empty()) std::abort();
  }
  return 0;
}
