// Semantic versions (semver.org 2.0.0) and the range syntax used to track
// the newest matching tag of a repository.
//
// Ranges: comparators joined by spaces or commas (all must hold), and
// alternatives joined by "||". A comparator is an operator (=, !=, >, >=,
// <, <=, ~, ^) or none, followed by a version that may be partial or use
// x/X/* wildcards: ">=1.2.0 <2.0.0", "^1.4", "~1.2.3", "1.x", "*".
// A pre-release version matches only a comparator that itself names a
// pre-release of the same major.minor.patch (the npm and Masterminds rule),
// so "^1.2.0" never selects 1.3.0-rc.1. Tags may carry a leading "v".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "renderers/manifest/result.h"

namespace keelson::source {

struct SemVer {
  std::uint64_t major = 0, minor = 0, patch = 0;
  std::vector<std::string> prerelease;  // dot-separated identifiers
  std::string build;                    // ignored for ordering

  // Parses "1.2.3", "v1.2.3-rc.1+build.5"; nullopt for anything else.
  static std::optional<SemVer> Parse(std::string_view text);
  std::string ToString() const;
};

// Negative, zero or positive as in semver.org section 11 (build ignored).
int Compare(const SemVer& a, const SemVer& b);

class SemVerRange {
 public:
  // kInvalidInput with the offending part named when `text` is not a range.
  static Result<SemVerRange> Parse(std::string_view text);
  bool Matches(const SemVer& version) const;
  const std::string& text() const { return text_; }

 private:
  enum class Op { kEq, kNe, kLt, kLe, kGt, kGe };
  struct Comparator {
    Op op;
    SemVer version;
    bool user_prerelease = false;  // written with a pre-release by the user
  };
  using Conjunction = std::vector<Comparator>;
  std::vector<Conjunction> alternatives_;
  std::string text_;
};

// The greatest of `tags` (plain names, no refs/tags/ prefix) that parses as
// a version and matches `range`; nullopt when none does.
std::optional<std::string> HighestMatchingTag(const std::vector<std::string>& tags, const SemVerRange& range);

}  // namespace keelson::source
