// Unified diffs of two texts, line by line (Myers' O(ND) algorithm), as
// `diff -u` prints them with three lines of context.
#pragma once

#include <string>
#include <string_view>

namespace keelson::cli {

// "" when the texts are equal.
std::string UnifiedDiff(std::string_view before, std::string_view after, const std::string& before_label,
                        const std::string& after_label, int context = 3);

}  // namespace keelson::cli
