#include "agent/reconcile/unit_order.h"

#include <algorithm>
#include <map>

namespace keelson::reconcile {

Result<std::vector<std::vector<std::string>>> OrderUnits(const std::vector<config::UnitSpec>& units) {
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < units.size(); ++i) index[units[i].name] = i;
  for (const config::UnitSpec& u : units) {
    for (const std::string& dep : u.depends_on) {
      if (index.count(dep) == 0) {
        return MakeError(ErrorCode::kInvalidInput, "unit \"" + u.name + "\" depends on unknown unit \"" + dep + "\"");
      }
    }
  }
  // Depth-first search for a cycle first, so the error can name it.
  enum class Mark { kNone, kActive, kDone };
  std::vector<Mark> marks(units.size(), Mark::kNone);
  std::vector<std::size_t> stack;
  std::string cycle;
  auto visit = [&](auto&& self, std::size_t i) -> bool {
    marks[i] = Mark::kActive;
    stack.push_back(i);
    for (const std::string& dep : units[i].depends_on) {
      std::size_t j = index[dep];
      if (marks[j] == Mark::kActive) {
        auto start = std::find(stack.begin(), stack.end(), j);
        for (auto it = start; it != stack.end(); ++it) cycle += units[*it].name + " -> ";
        cycle += units[j].name;
        return false;
      }
      if (marks[j] == Mark::kNone && !self(self, j)) return false;
    }
    stack.pop_back();
    marks[i] = Mark::kDone;
    return true;
  };
  for (std::size_t i = 0; i < units.size(); ++i) {
    if (marks[i] == Mark::kNone && !visit(visit, i)) {
      return MakeError(ErrorCode::kInvalidInput, "dependsOn cycle between units: " + cycle);
    }
  }
  // Longest-path levels.
  std::vector<int> level(units.size(), -1);
  auto depth = [&](auto&& self, std::size_t i) -> int {
    if (level[i] >= 0) return level[i];
    int d = 0;
    for (const std::string& dep : units[i].depends_on) d = std::max(d, self(self, index[dep]) + 1);
    level[i] = d;
    return d;
  };
  int max_level = -1;
  for (std::size_t i = 0; i < units.size(); ++i) max_level = std::max(max_level, depth(depth, i));
  std::vector<std::vector<std::string>> levels(static_cast<std::size_t>(max_level + 1));
  for (std::size_t i = 0; i < units.size(); ++i) levels[static_cast<std::size_t>(level[i])].push_back(units[i].name);
  return levels;
}

}  // namespace keelson::reconcile
