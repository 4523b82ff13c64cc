// Fuzzes the policy expression language: any input must compile or fail with
// an Error, and whatever compiles must evaluate within its step budget to a
// value or an error (never crash, hang or exhaust memory). Inputs starting
// with "re:" fuzz the regular expression engine directly.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "policies/engine/cel.h"
#include "policies/engine/policy.h"
#include "policies/engine/regex.h"
#include "renderers/manifest/yaml.h"

namespace {

const keelson::manifest::Node& Object() {
  static const keelson::manifest::Node kObject = [] {
    keelson::manifest::ParseOptions options;
    options.file = "object.yaml";
    return keelson::manifest::ParseYaml(R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, labels: {team: payments}}
spec:
  replicas: 3
  ratio: 0.5
  template:
    spec:
      containers:
      - {name: app, image: "registry.example.com/app:1@sha256:abc", ports: [{containerPort: 80}]}
      - {name: side, image: nginx, securityContext: {privileged: true}}
)",
                                        options)
        .value();
  }();
  return kObject;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace keelson::policy;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (text.starts_with("re:")) {
    text.remove_prefix(3);
    std::size_t split = text.find('\n');
    std::string_view pattern = text.substr(0, split);
    std::string_view subject = split == std::string_view::npos ? pattern : text.substr(split + 1);
    keelson::Result<std::shared_ptr<const Regex>> re = Regex::Compile(pattern);
    if (re.ok()) {
      (void)(*re)->Search(subject);
      (void)(*re)->FullMatch(subject);
    }
    return 0;
  }
  keelson::Result<std::shared_ptr<const cel::Program>> program = cel::Compile(text, PolicyDeclarations());
  if (!program.ok()) {
    if (program.error().message.empty()) std::abort();
    return 0;
  }
  cel::Activation act;
  act.variables.resize(kVariableCount);
  act.variables[kObject] = cel::Value::FromNode(Object());
  act.variables[kParams] = cel::Value::Map({});
  act.variables[kPodSpec] = cel::Value::FromNode(*Object().FindPath({"spec", "template", "spec"}));
  act.variables[kContainers] = cel::Value::FromNode(*Object().FindPath({"spec", "template", "spec", "containers"}));
  act.variables[kEnvironment] = cel::Value::StringRef("prod");
  act.variables[kUnit] = cel::Value::StringRef("web");
  cel::EvalLimits limits;
  limits.max_steps = 20'000;
  limits.max_string_bytes = 64 * 1024;
  limits.max_list_size = 10'000;
  cel::Value v = (*program)->Evaluate(act, limits);
  (void)v.ToDisplayString(256);
  return 0;
}
