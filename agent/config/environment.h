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
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

struct EnvironmentSpec {
  std::string file;
  std::string name;
  // Take a revision only after it was recorded healthy in this earlier
  // environment's audit trail.
  std::string promote_after;
  std::vector<UnitSpec> units;

  const UnitSpec* FindUnit(std::string_view name) const;
};

// `default_source` fills UnitSpec::source where a unit names none.
Result<EnvironmentSpec> ParseEnvironment(std::string_view text, const std::string& file,
                                         const std::string& default_source);

}  // namespace keelson::config
