// Drift: fields of a live object that no longer hold what the agent
// applied.
//
// Only the fields present in the applied object are compared — with
// server-side apply those are exactly the fields the agent owns — so server
// defaults, status and fields other managers own never count as drift.
// metadata is compared only for labels and annotations. Lists whose items
// are all mappings with a `name` (containers, ports, env, volumes) are
// matched by name; other lists must be equal as a whole. Numbers compare by
// value (1 and 1.0 are equal).
#pragma once

#include <string>
#include <vector>

#include "renderers/manifest/node.h"

namespace keelson::reconcile {

struct DriftedField {
  std::string path;      // "spec.replicas", "spec.template.spec.containers[name=web].image"
  std::string expected;  // compact JSON of the applied value
  std::string actual;    // compact JSON of the live value, "<missing>" when gone
};

std::vector<DriftedField> FindDrift(const manifest::Node& applied, const manifest::Node& live);

}  // namespace keelson::reconcile
