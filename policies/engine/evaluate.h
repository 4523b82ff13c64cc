// Running a PolicySet over a rendered set of objects.
//
// Every enabled policy runs against every object its match selects. A check
// that yields true passes; false is a violation with the policy's message;
// an evaluation error (a missing field not guarded by has(), a budget
// overrun) or a non-bool result is a violation too, marked as an error,
// at the policy's severity. Pure and thread-safe: the same PolicySet may
// check several sets concurrently.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "policies/engine/cel.h"
#include "policies/engine/decision.h"
#include "policies/engine/policy.h"
#include "renderers/manifest/object.h"

namespace keelson::policy {

struct CheckContext {
  std::string environment;  // "" when none
  std::string unit;         // "" when none
  cel::EvalLimits limits;   // per evaluation of one check or message
};

struct Violation {
  std::string policy;
  Severity severity = Severity::kDeny;
  std::string message;
  manifest::ResourceId object;
  Location origin;          // file and line of the object's document
  bool error = false;       // the check could not be evaluated
};

struct CheckResult {
  std::vector<Violation> violations;  // object order, then policy order
  std::size_t evaluations = 0;        // object × policy checks run
  bool denied() const;                // any violation with severity deny
};

// The violations as decision reasons (gate "policy"): deny policies deny,
// warn policies warn, and none can pass without a new commit. Messages read
// "file:line: Kind/name: message". An empty result allows.
Decision DecisionFor(const CheckResult& result);

// True when the policy's match selects the object in this context.
bool Matches(const Policy& policy, const manifest::Object& object, const CheckContext& context);

CheckResult CheckObjects(const PolicySet& policies, const manifest::ObjectList& objects, const CheckContext& context);

// The pod spec inside a workload object (see PolicyDeclarations), or nullptr.
const manifest::Node* PodSpecOf(const manifest::Node& object);

// An image reference split the way container runtimes resolve it.
struct ImageReference {
  std::string registry;    // "docker.io" when none is named
  std::string repository;  // "library/nginx" for "nginx"
  std::string tag;         // "" when none
  std::string digest;      // "sha256:..." or ""
};
ImageReference ParseImageReference(std::string_view image);

}  // namespace keelson::policy
