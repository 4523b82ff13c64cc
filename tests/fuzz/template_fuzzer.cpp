// Fuzzes the Go template engine with the Helm function library: any input
// must parse and run, or fail with an Error, within the engine's limits
// (never crash, hang or exhaust memory).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "renderers/helm/functions.h"
#include "renderers/helm/template.h"

namespace {

const keelson::helm::FunctionTable& Functions() {
  static const keelson::helm::FunctionTable table = [] {
    keelson::helm::FunctionTable t = keelson::helm::MakeHelmFunctions();
    // Key generation and bcrypt are correct but deliberately slow; they
    // would only slow the fuzzer down.
    for (const char* slow : {"genPrivateKey", "genCA", "genSelfSignedCert", "genSignedCert", "htpasswd", "bcrypt",
                             "derivePassword", "genCAWithKey", "genSelfSignedCertWithKey", "genSignedCertWithKey"}) {
      t.functions.erase(slow);
    }
    return t;
  }();
  return table;
}

keelson::helm::Value Data() {
  using keelson::helm::Value;
  return Value::NewMap({{"Values", Value::NewMap({{"name", Value::String("web")},
                                                   {"n", Value::Float(3)},
                                                   {"list", Value::NewList({Value::Int(1), Value::String("a")})},
                                                   {"map", Value::NewMap({{"k", Value::Bool(true)}})}})},
                        {"Release", Value::NewMap({{"Name", Value::String("rel")}})}});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace keelson::helm;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Limits limits;
  limits.max_depth = 40;
  limits.max_output_bytes = 1u << 20;
  limits.max_steps = 200'000;
  TemplateSet set;
  if (!set.Parse("fuzz", text, Functions(), limits).ok()) return 0;
  Executor executor(Functions(), limits);
  (void)executor.Execute(set, "fuzz", Data());
  return 0;
}
