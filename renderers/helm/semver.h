// Semantic versions and constraints as Masterminds/semver v3 reads them
// (what Helm and Sprig's semverCompare use).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "renderers/manifest/result.h"

namespace keelson::helm {

struct SemVersion {
  std::uint64_t major = 0, minor = 0, patch = 0;
  std::string prerelease;
  std::string metadata;
  std::string original;
};

// Lenient parse: optional "v", missing minor/patch default to 0.
Result<SemVersion> ParseSemVersion(std::string_view text);
// -1, 0, 1; metadata is ignored, prereleases order below releases.
int CompareSemVersions(const SemVersion& a, const SemVersion& b);
// Checks `version` against a constraint such as ">=1.19-0", "~1.2",
// "^2", "1.x", ">1, <3 || 5.0.0". Errors for unparsable constraints.
Result<bool> SemVerSatisfies(std::string_view constraint, const SemVersion& version);

}  // namespace keelson::helm
