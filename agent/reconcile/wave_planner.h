// Cuts a unit's rendered objects into ordered waves.
//
// Order: Namespaces and CustomResourceDefinitions first (phase 0); then
// Argo CD PreSync hooks (phase 1); then the main objects by wave number
// from the `keelson.dev/wave` annotation, or `argocd.argoproj.io/sync-wave`
// so Argo CD repositories work unchanged (phase 2, default wave 0, negative
// allowed); then PostSync hooks (phase 3). Inside a wave, objects follow
// Helm's install order of kinds, then namespace and name. A wave starts only
// when every object of the previous one is healthy; deletions run in the
// reverse order.
#pragma once

#include <string>
#include <vector>

#include "renderers/manifest/object.h"
#include "renderers/manifest/result.h"

namespace keelson::reconcile {

inline constexpr const char* kWaveAnnotation = "keelson.dev/wave";
inline constexpr const char* kArgoWaveAnnotation = "argocd.argoproj.io/sync-wave";
inline constexpr const char* kArgoHookAnnotation = "argocd.argoproj.io/hook";
// Objects carrying this annotation with value "disabled" are never pruned.
inline constexpr const char* kPruneAnnotation = "keelson.dev/prune";

enum class Phase { kFoundation = 0, kPreSync = 1, kMain = 2, kPostSync = 3 };

const char* PhaseName(Phase phase);

struct Wave {
  Phase phase = Phase::kMain;
  long number = 0;  // the wave annotation's value (0 outside kMain)
  manifest::ObjectList objects;

  std::string Label() const;  // "foundation", "wave 0", "wave -1", "presync", "postsync"
};

// Objects with `argocd.argoproj.io/hook: Skip` are left out; hooks that use
// generateName are refused (server-side apply needs a name) with an error
// naming the object. An annotation that is not an integer is an error naming
// the object and annotation.
Result<std::vector<Wave>> PlanWaves(const manifest::ObjectList& objects);

// Helm's install order of kinds: lower first; unknown kinds after all known
// ones.
int KindInstallRank(const std::string& kind);

}  // namespace keelson::reconcile
