// Whole-string name patterns for patch and replacement targets.
//
// GCC 12 reports a false -Wmaybe-uninitialized inside <regex> once it is
// inlined with optimisation and sanitizers (GCC bug 105562); std::regex is
// confined to this file so the suppression covers nothing else.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <regex>

#include "renderers/kustomize/internal.h"

namespace keelson::kustomize::internal {

struct NamePattern::Compiled {
  std::regex regex;
};

NamePattern::NamePattern(std::string pattern) : pattern_(std::move(pattern)) {
  for (char c : pattern_) {
    if (std::string_view(".*+?()[]{}|^$\\").find(c) != std::string_view::npos) literal_ = false;
  }
  if (literal_) return;
  try {
    regex_ = std::make_shared<const Compiled>(Compiled{std::regex(pattern_, std::regex::ECMAScript)});
  } catch (const std::regex_error&) {
    literal_ = true;  // not a valid pattern: compare it as a plain name
  }
}

bool NamePattern::Matches(std::string_view text) const {
  if (literal_) return text == pattern_;
  return std::regex_match(text.begin(), text.end(), regex_->regex);
}

}  // namespace keelson::kustomize::internal
