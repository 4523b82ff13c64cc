#include "agent/cli/line_diff.h"

#include <algorithm>
#include <vector>

namespace keelson::cli {
namespace {

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

enum class Op { kKeep, kDelete, kInsert };

// Myers' shortest edit script.
std::vector<Op> EditScript(const std::vector<std::string_view>& a, const std::vector<std::string_view>& b) {
  const int n = static_cast<int>(a.size()), m = static_cast<int>(b.size());
  const int max = n + m;
  std::vector<int> v(static_cast<std::size_t>(2 * max + 2), 0);
  std::vector<std::vector<int>> trace;
  int offset = max + 1;
  for (int d = 0; d <= max; ++d) {
    trace.push_back(v);
    for (int k = -d; k <= d; k += 2) {
      int x = (k == -d || (k != d && v[static_cast<std::size_t>(k - 1 + offset)] < v[static_cast<std::size_t>(k + 1 + offset)]))
                  ? v[static_cast<std::size_t>(k + 1 + offset)]
                  : v[static_cast<std::size_t>(k - 1 + offset)] + 1;
      int y = x - k;
      while (x < n && y < m && a[static_cast<std::size_t>(x)] == b[static_cast<std::size_t>(y)]) {
        ++x;
        ++y;
      }
      v[static_cast<std::size_t>(k + offset)] = x;
      if (x >= n && y >= m) {
        // Walk the trace back to recover the script.
        std::vector<Op> ops;
        int cx = n, cy = m;
        for (int dd = d; dd > 0; --dd) {
          const std::vector<int>& pv = trace[static_cast<std::size_t>(dd)];
          int ck = cx - cy;
          int prev_k = (ck == -dd || (ck != dd && pv[static_cast<std::size_t>(ck - 1 + offset)] <
                                                      pv[static_cast<std::size_t>(ck + 1 + offset)]))
                           ? ck + 1
                           : ck - 1;
          int px = pv[static_cast<std::size_t>(prev_k + offset)];
          int py = px - prev_k;
          while (cx > px && cy > py) {
            ops.push_back(Op::kKeep);
            --cx;
            --cy;
          }
          ops.push_back(cx == px ? Op::kInsert : Op::kDelete);
          cx = px;
          cy = py;
        }
        while (cx > 0 && cy > 0) {
          ops.push_back(Op::kKeep);
          --cx;
          --cy;
        }
        std::reverse(ops.begin(), ops.end());
        return ops;
      }
    }
  }
  return {};
}

}  // namespace

std::string UnifiedDiff(std::string_view before, std::string_view after, const std::string& before_label,
                        const std::string& after_label, int context) {
  std::vector<std::string_view> a = Lines(before), b = Lines(after);
  std::vector<Op> ops = EditScript(a, b);
  bool any = std::any_of(ops.begin(), ops.end(), [](Op o) { return o != Op::kKeep; });
  if (!any) return "";
  std::string out = "--- " + before_label + "\n+++ " + after_label + "\n";
  // Positions of each op in a and b.
  std::vector<int> ai(ops.size() + 1), bi(ops.size() + 1);
  for (std::size_t i = 0; i < ops.size(); ++i) {
    ai[i + 1] = ai[i] + (ops[i] != Op::kInsert);
    bi[i + 1] = bi[i] + (ops[i] != Op::kDelete);
  }
  std::size_t i = 0;
  while (i < ops.size()) {
    if (ops[i] == Op::kKeep) {
      ++i;
      continue;
    }
    // A hunk: from `context` keeps before the change to `context` keeps
    // after the last change that is within 2*context of the next.
    std::size_t start = i >= static_cast<std::size_t>(context) ? i - static_cast<std::size_t>(context) : 0;
    while (start < i && ops[start] != Op::kKeep) ++start;
    std::size_t end = i;
    std::size_t keeps = 0;
    for (std::size_t j = i; j < ops.size(); ++j) {
      if (ops[j] == Op::kKeep) {
        if (++keeps > static_cast<std::size_t>(2 * context)) break;
      } else {
        keeps = 0;
        end = j;
      }
    }
    std::size_t stop = std::min(ops.size(), end + 1 + static_cast<std::size_t>(context));
    int a_count = ai[stop] - ai[start], b_count = bi[stop] - bi[start];
    out += "@@ -" + std::to_string(a_count == 0 ? ai[start] : ai[start] + 1) + "," + std::to_string(a_count) + " +" +
           std::to_string(b_count == 0 ? bi[start] : bi[start] + 1) + "," + std::to_string(b_count) + " @@\n";
    for (std::size_t j = start; j < stop; ++j) {
      switch (ops[j]) {
        case Op::kKeep: out += " " + std::string(a[static_cast<std::size_t>(ai[j])]) + "\n"; break;
        case Op::kDelete: out += "-" + std::string(a[static_cast<std::size_t>(ai[j])]) + "\n"; break;
        case Op::kInsert: out += "+" + std::string(b[static_cast<std::size_t>(bi[j])]) + "\n"; break;
      }
    }
    i = stop;
  }
  return out;
}

}  // namespace keelson::cli
