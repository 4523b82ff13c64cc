// Policy fixtures: example objects that a policy must pass or fail, kept
// next to it as <policy dir>/fixtures/pass-*.yaml and fail-*.yaml.
//
// A fixture is a YAML stream of objects (the whole stream is the rendered
// set, so related() sees all of it). It may start with a context document:
//
//   apiVersion: keelson.dev/v1alpha1
//   kind: PolicyFixture
//   environment: prod            # CheckContext.environment
//   unit: web                    # CheckContext.unit
//   parameters: {minReplicas: 3} # replace the policy's parameters of these names
//   expect:                      # fail fixtures only, both optional
//     violations: 1              # exact number of violations
//     message: "sidecar"         # a substring every violation message contains
//
// A pass fixture expects no violation of the policy; a fail fixture at least
// one, and none of them an evaluation error. Fixtures run with the policy
// enabled even when it ships disabled.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "renderers/manifest/filesystem.h"
#include "renderers/manifest/result.h"

namespace keelson::policy {

struct FixtureOutcome {
  std::string policy;
  std::string file;    // path of the fixture, with the label in front
  bool passed = false;
  std::string detail;  // why it failed, or a summary of what was seen
};

struct FixtureReport {
  std::vector<FixtureOutcome> outcomes;
  std::size_t policies = 0;
  std::size_t failures() const;
};

// Runs the fixtures of every policy under dir: dir itself when it holds a
// policy.yaml, otherwise each subdirectory that does. Input errors (a
// policy or fixture that does not parse, a policy without fixtures of
// both kinds) fail the whole run. `label` goes in front of paths.
Result<FixtureReport> RunFixtures(const manifest::FileSystem& fs, std::string_view dir, std::string_view label = "");

}  // namespace keelson::policy
