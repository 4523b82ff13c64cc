// The environment declaration kept in Git (e.g. clusters/prod/keelson.yaml):
// the units this environment runs, how each is rendered, in which order,
// and how it is guarded. Because it lives in Git, changing it is itself a
// signed, audited commit.
//
//   apiVersion: keelson.dev/v1alpha1
//   kind: Environment
//   metadata: {name: prod}
//   spec:
//     promotion: {after: staging}
//     units:
//     - name: infra
//       path: infra
//     - name: web
//       path: apps/web/overlays/prod
//       dependsOn: [infra]
//       healthTimeout: 5m
//     - name: metrics
//       renderer: helm
//       path: charts/metrics-server
//       values: [charts/values/prod.yaml]
//     policies:                 # optional; see docs/policies.md
//       directories: [policies] # policy files in this source, after the built-in library
//       builtin: true           # load the built-in library first (default true)
//     gates:                    # a gate configuration (mapping), or the path of
//       windows: [...]          # a YAML file holding one in this source
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policies/engine/gates.h"
#include "renderers/manifest/result.h"

namespace keelson::config {

enum class RendererKind { kAuto, kPlain, kKustomize, kHelm };
enum class DriftMode { kDetect, kCorrect, kOff };
enum class RollbackMode { kAuto, kNone };

const char* RendererKindName(RendererKind kind);

struct UnitSpec {
  std::string name;
  std::string source;  // default: the source holding the declaration
  std::string path;    // directory in the source
  // kAuto picks kustomize when the directory holds a kustomization file,
  // helm when it holds Chart.yaml, plain otherwise.
  RendererKind renderer = RendererKind::kAuto;
  std::string namespace_;               // default namespace for namespaced objects without one
  std::vector<std::string> depends_on;  // units that must be healthy first
  bool prune = true;                    // delete objects that left the render
  bool allow_empty = false;             // an empty render may prune everything
  DriftMode drift = DriftMode::kDetect;
  std::chrono::milliseconds health_timeout{std::chrono::minutes(5)};
  RollbackMode rollback = RollbackMode::kAuto;
  // Helm: release name (default: unit name), values files in order, --set.
  std::string release;
  std::vector<std::string> values;
  std::vector<std::string> set;
};

// Which policies run over every unit's rendered objects. Policies and gates
// run only when the declaration has spec.policies or spec.gates.
struct PolicySpec {
  bool builtin = true;
  // Directories of policy files in the declaration's source, loaded in this
  // order after the built-in library; a document naming a loaded policy
  // without a check adjusts it (severity, enabled, match, parameters).
  std::vector<std::string> directories;
};

struct EnvironmentSpec {
  std::string file;
  std::string name;
  // Take a revision only after it was recorded healthy in this earlier
  // environment's audit trail.
  std::string promote_after;
  std::vector<UnitSpec> units;
  std::optional<PolicySpec> policies;
  // spec.gates given inline (parsed and checked here) or as a file in the
  // declaration's source (read and parsed when the revision is gated).
  std::optional<policy::GateConfig> gates;
  std::string gates_file;

  // True when policies or gates must run before units are applied.
  bool gated() const {
    return policies.has_value() || gates.has_value() || !gates_file.empty() || !promote_after.empty();
  }

  const UnitSpec* FindUnit(std::string_view name) const;
};

// `default_source` fills UnitSpec::source where a unit names none.
Result<EnvironmentSpec> ParseEnvironment(std::string_view text, const std::string& file,
                                         const std::string& default_source);

}  // namespace keelson::config
