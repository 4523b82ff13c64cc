// The built-in policy library (policies/library/*/policy.yaml), compiled
// into the binary. See docs/policies.md for what each policy checks and how
// to adjust or disable one from a policies directory.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "policies/engine/policy.h"
#include "renderers/manifest/result.h"

namespace keelson::policy {

// Adds every built-in policy to `set`; origins read "builtin:<name>/policy.yaml".
// Fails only if the embedded files do not load, which the library's own tests
// rule out.
Status AddBuiltinPolicies(PolicySet& set);

// Names of the built-in policies, in load order.
std::vector<std::string> BuiltinPolicyNames();

namespace builtin_data {
struct EmbeddedFile {
  const char* path;  // "<name>/policy.yaml"
  const unsigned char* data;
  std::size_t size;
};
extern const EmbeddedFile kFiles[];
extern const std::size_t kFileCount;
}  // namespace builtin_data

}  // namespace keelson::policy
