// Fuzzes the configuration readers: the agent config, the environment
// declaration (with inline gates), allowed_signers files and trust policy
// inputs. Any input parses or fails with an Error naming the file; nothing
// throws or aborts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "agent/config/agent_config.h"
#include "agent/config/environment.h"
#include "agent/config/fields.h"
#include "agent/trust/allowed_signers.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace keelson;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Result<config::AgentConfig> agent = config::ParseAgentConfig(text, "fuzz-agent.yaml");
  if (!agent.ok() && agent.error().where.file != "fuzz-agent.yaml") std::abort();
  Result<config::EnvironmentSpec> env = config::ParseEnvironment(text, "fuzz-env.yaml", "repo");
  if (!env.ok() && env.error().where.file.empty()) std::abort();
  Result<trust::AllowedSigners> signers = trust::AllowedSigners::Parse(text, "allowed_signers");
  if (!signers.ok() && signers.error().message.empty()) std::abort();
  (void)config::ParseDuration(text.substr(0, 64));
  return 0;
}
