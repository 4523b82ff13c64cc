#include "agent/source/semver.h"

#include <algorithm>
#include <cctype>

namespace keelson::source {
namespace {

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A numeric part without leading zeros that fits in 64 bits.
std::optional<std::uint64_t> ParseNumber(std::string_view s) {
  if (!AllDigits(s) || (s.size() > 1 && s[0] == '0') || s.size() > 19) return std::nullopt;
  std::uint64_t n = 0;
  for (char c : s) n = n * 10 + static_cast<std::uint64_t>(c - '0');
  return n;
}

bool ValidIdentifier(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-';
  });
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t end = s.find(sep, start);
    parts.push_back(s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return parts;
}

bool IsWildcard(std::string_view s) { return s == "x" || s == "X" || s == "*"; }

int CompareIdentifiers(const std::string& a, const std::string& b) {
  bool an = AllDigits(a), bn = AllDigits(b);
  if (an && bn) {
    if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
    return a.compare(b) < 0 ? -1 : (a == b ? 0 : 1);
  }
  if (an != bn) return an ? -1 : 1;  // numeric identifiers sort first
  int c = a.compare(b);
  return c < 0 ? -1 : (c == 0 ? 0 : 1);
}

// A version in a range: up to three numbers, missing or wildcard parts
// counted in `given`.
struct Partial {
  SemVer version;
  int given = 0;  // how many of major, minor, patch were numbers
};

std::optional<Partial> ParsePartial(std::string_view text) {
  if (!text.empty() && (text[0] == 'v' || text[0] == 'V')) text.remove_prefix(1);
  Partial p;
  if (text.empty() || IsWildcard(text)) return p;
  std::string_view core = text;
  std::string_view rest;
  std::size_t dash = text.find_first_of("-+");
  if (dash != std::string_view::npos) {
    core = text.substr(0, dash);
    rest = text.substr(dash);
  }
  std::vector<std::string_view> nums = Split(core, '.');
  if (nums.size() > 3) return std::nullopt;
  std::uint64_t* fields[3] = {&p.version.major, &p.version.minor, &p.version.patch};
  bool wildcard_seen = false;
  for (std::size_t i = 0; i < nums.size(); ++i) {
    if (IsWildcard(nums[i])) {
      wildcard_seen = true;
      continue;
    }
    if (wildcard_seen) return std::nullopt;  // "1.x.3"
    std::optional<std::uint64_t> n = ParseNumber(nums[i]);
    if (!n) return std::nullopt;
    *fields[i] = *n;
    ++p.given;
  }
  if (!rest.empty()) {
    if (p.given != 3) return std::nullopt;
    std::optional<SemVer> full = SemVer::Parse(std::string(core) + std::string(rest));
    if (!full) return std::nullopt;
    p.version = *full;
  }
  return p;
}

SemVer Bump(const SemVer& v, int part) {
  SemVer out;
  out.major = v.major;
  if (part == 0) {
    out.major = v.major + 1;
  } else if (part == 1) {
    out.minor = v.minor + 1;
  } else {
    out.minor = v.minor;
    out.patch = v.patch + 1;
  }
  out.prerelease = {"0"};  // the lowest version with these numbers
  return out;
}

}  // namespace

std::optional<SemVer> SemVer::Parse(std::string_view text) {
  if (!text.empty() && text[0] == 'v') text.remove_prefix(1);
  SemVer v;
  std::size_t plus = text.find('+');
  if (plus != std::string_view::npos) {
    std::string_view build = text.substr(plus + 1);
    for (std::string_view id : Split(build, '.')) {
      if (!ValidIdentifier(id)) return std::nullopt;
    }
    v.build = std::string(build);
    text = text.substr(0, plus);
  }
  std::size_t dash = text.find('-');
  if (dash != std::string_view::npos) {
    for (std::string_view id : Split(text.substr(dash + 1), '.')) {
      if (!ValidIdentifier(id) || (AllDigits(id) && id.size() > 1 && id[0] == '0')) return std::nullopt;
      v.prerelease.emplace_back(id);
    }
    text = text.substr(0, dash);
  }
  std::vector<std::string_view> nums = Split(text, '.');
  if (nums.size() != 3) return std::nullopt;
  std::optional<std::uint64_t> major = ParseNumber(nums[0]), minor = ParseNumber(nums[1]),
                               patch = ParseNumber(nums[2]);
  if (!major || !minor || !patch) return std::nullopt;
  v.major = *major;
  v.minor = *minor;
  v.patch = *patch;
  return v;
}

std::string SemVer::ToString() const {
  std::string out = std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
  for (std::size_t i = 0; i < prerelease.size(); ++i) out += (i == 0 ? "-" : ".") + prerelease[i];
  if (!build.empty()) out += "+" + build;
  return out;
}

int Compare(const SemVer& a, const SemVer& b) {
  if (a.major != b.major) return a.major < b.major ? -1 : 1;
  if (a.minor != b.minor) return a.minor < b.minor ? -1 : 1;
  if (a.patch != b.patch) return a.patch < b.patch ? -1 : 1;
  if (a.prerelease.empty() || b.prerelease.empty()) {
    if (a.prerelease.empty() && b.prerelease.empty()) return 0;
    return a.prerelease.empty() ? 1 : -1;  // a release sorts after its pre-releases
  }
  std::size_t n = std::min(a.prerelease.size(), b.prerelease.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (int c = CompareIdentifiers(a.prerelease[i], b.prerelease[i]); c != 0) return c;
  }
  if (a.prerelease.size() == b.prerelease.size()) return 0;
  return a.prerelease.size() < b.prerelease.size() ? -1 : 1;
}

Result<SemVerRange> SemVerRange::Parse(std::string_view text) {
  SemVerRange range;
  range.text_ = std::string(text);
  if (text.size() > 1024) return MakeError(ErrorCode::kLimitExceeded, "semver range longer than 1024 characters");
  std::string normalized(text);
  std::replace(normalized.begin(), normalized.end(), ',', ' ');
  std::size_t start = 0;
  while (start <= normalized.size()) {
    std::size_t bar = normalized.find("||", start);
    std::string alt = normalized.substr(start, bar == std::string::npos ? std::string::npos : bar - start);
    Conjunction conj;
    // Tokens; an operator separated from its version by spaces joins it.
    std::vector<std::string> tokens;
    std::size_t i = 0;
    while (i < alt.size()) {
      while (i < alt.size() && alt[i] == ' ') ++i;
      std::size_t j = i;
      while (j < alt.size() && alt[j] != ' ') ++j;
      if (j > i) tokens.push_back(alt.substr(i, j - i));
      i = j;
    }
    for (std::size_t k = 0; k + 1 < tokens.size(); ++k) {
      if (tokens[k].find_first_not_of("<>=!~^") == std::string::npos) {
        tokens[k] += tokens[k + 1];
        tokens.erase(tokens.begin() + static_cast<std::ptrdiff_t>(k) + 1);
      }
    }
    if (tokens.empty()) tokens.push_back("*");
    for (const std::string& token : tokens) {
      std::size_t op_len = token.find_first_not_of("<>=!~^");
      std::string op = token.substr(0, op_len);
      std::optional<Partial> p =
          ParsePartial(op_len == std::string::npos ? std::string_view() : std::string_view(token).substr(op_len));
      if (!p || op_len == std::string::npos || !(op.empty() || op == "=" || op == "!=" || op == "<" || op == "<=" || op == ">" || op == ">=" ||
                  op == "~" || op == "^" || op == "~>")) {
        return MakeError(ErrorCode::kInvalidInput,
                         "invalid semver range \"" + std::string(text) + "\": cannot read \"" + token + "\"");
      }
      const SemVer& v = p->version;
      auto add = [&](Op o, SemVer version) { conj.push_back(Comparator{o, std::move(version)}); };
      int g = p->given;
      if (op.empty() || op == "=") {
        if (g == 3) {
          add(Op::kEq, v);
        } else if (g > 0) {
          add(Op::kGe, v);
          add(Op::kLt, Bump(v, g - 1));
        }  // "*" adds nothing: any release matches
      } else if (op == "!=") {
        if (g != 3) return MakeError(ErrorCode::kInvalidInput, "\"!=\" needs a full version in \"" + token + "\"");
        add(Op::kNe, v);
      } else if (op == ">=") {
        add(Op::kGe, v);
      } else if (op == ">") {
        if (g == 3) add(Op::kGt, v);
        else if (g > 0) add(Op::kGe, Bump(v, g - 1));
        else add(Op::kLt, SemVer{0, 0, 0, {"0"}, {}});  // "> *" matches nothing
      } else if (op == "<") {
        add(Op::kLt, g == 3 ? v : SemVer{v.major, v.minor, v.patch, {"0"}, {}});
      } else if (op == "<=") {
        if (g == 3) add(Op::kLe, v);
        else if (g > 0) add(Op::kLt, Bump(v, g - 1));
      } else if (op == "~" || op == "~>") {
        add(Op::kGe, v);
        if (g > 0) add(Op::kLt, Bump(v, g >= 2 ? 1 : 0));
      } else {  // ^: the leftmost non-zero part may not change
        add(Op::kGe, v);
        if (g == 0) {
        } else if (v.major > 0 || g == 1) {
          add(Op::kLt, Bump(v, 0));
        } else if (v.minor > 0 || g == 2) {
          add(Op::kLt, Bump(v, 1));
        } else {
          add(Op::kLt, Bump(v, 2));
        }
      }
      if (!v.prerelease.empty()) conj.back().user_prerelease = true;
      if (!v.prerelease.empty() && conj.size() >= 2 && (op == "~" || op == "^" || op == "~>")) {
        conj[conj.size() - 2].user_prerelease = true;
      }
    }
    range.alternatives_.push_back(std::move(conj));
    if (bar == std::string::npos) break;
    start = bar + 2;
  }
  return range;
}

bool SemVerRange::Matches(const SemVer& version) const {
  for (const Conjunction& conj : alternatives_) {
    bool all = true;
    bool prerelease_allowed = version.prerelease.empty();
    for (const Comparator& c : conj) {
      int cmp = Compare(version, c.version);
      bool ok = false;
      switch (c.op) {
        case Op::kEq: ok = cmp == 0; break;
        case Op::kNe: ok = cmp != 0; break;
        case Op::kLt: ok = cmp < 0; break;
        case Op::kLe: ok = cmp <= 0; break;
        case Op::kGt: ok = cmp > 0; break;
        case Op::kGe: ok = cmp >= 0; break;
      }
      if (!ok) {
        all = false;
        break;
      }
      if (c.user_prerelease && c.version.major == version.major && c.version.minor == version.minor &&
          c.version.patch == version.patch) {
        prerelease_allowed = true;
      }
    }
    if (all && prerelease_allowed) return true;
  }
  return false;
}

std::optional<std::string> HighestMatchingTag(const std::vector<std::string>& tags, const SemVerRange& range) {
  std::optional<std::string> best_tag;
  std::optional<SemVer> best;
  for (const std::string& tag : tags) {
    std::optional<SemVer> v = SemVer::Parse(tag);
    if (!v || !range.Matches(*v)) continue;
    // Ties (v1.0.0 and 1.0.0, or differing build metadata) go to the
    // smaller name so the choice does not depend on listing order.
    int c = best ? Compare(*v, *best) : 1;
    if (c > 0 || (c == 0 && tag < *best_tag)) {
      best = v;
      best_tag = tag;
    }
  }
  return best_tag;
}

}  // namespace keelson::source
