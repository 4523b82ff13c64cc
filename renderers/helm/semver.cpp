#include "renderers/helm/semver.h"

#include <cctype>
#include <charconv>
#include <vector>

namespace keelson::helm {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool ParseUint(std::string_view s, std::uint64_t& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool IsWildcard(std::string_view s) { return s == "x" || s == "X" || s == "*"; }

struct Parsed {
  SemVersion v;
  int specified = 0;  // how many of major/minor/patch were given (not wildcards)
};

bool ParseLoose(std::string_view text, Parsed& out, bool allow_wildcards) {
  std::string_view s = Trim(text);
  out = Parsed{};
  out.v.original = std::string(s);
  if (!s.empty() && (s[0] == 'v' || s[0] == 'V')) s.remove_prefix(1);
  std::size_t plus = s.find('+');
  if (plus != std::string_view::npos) {
    out.v.metadata = std::string(s.substr(plus + 1));
    s = s.substr(0, plus);
  }
  // The prerelease starts at the first '-' after the numeric core.
  std::size_t core_end = 0;
  while (core_end < s.size() && (std::isdigit(static_cast<unsigned char>(s[core_end])) || s[core_end] == '.' ||
                                 (allow_wildcards && (s[core_end] == 'x' || s[core_end] == 'X' || s[core_end] == '*')))) {
    ++core_end;
  }
  std::string_view core = s.substr(0, core_end);
  std::string_view rest = s.substr(core_end);
  if (!rest.empty()) {
    if (rest[0] != '-') return false;
    out.v.prerelease = std::string(rest.substr(1));
    if (out.v.prerelease.empty()) return false;
  }
  if (core.empty()) return false;
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= core.size(); ++i) {
    if (i == core.size() || core[i] == '.') {
      parts.push_back(core.substr(start, i - start));
      start = i + 1;
    }
  }
  if (parts.size() > 3) return false;
  std::uint64_t* slots[3] = {&out.v.major, &out.v.minor, &out.v.patch};
  bool wild = false;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (allow_wildcards && IsWildcard(parts[i])) {
      wild = true;
      continue;
    }
    if (wild) return false;
    if (!ParseUint(parts[i], *slots[i])) return false;
    out.specified = static_cast<int>(i) + 1;
  }
  return true;
}

int ComparePrerelease(const std::string& a, const std::string& b) {
  if (a == b) return 0;
  if (a.empty()) return 1;
  if (b.empty()) return -1;
  std::size_t i = 0, j = 0;
  while (true) {
    std::size_t ie = a.find('.', i), je = b.find('.', j);
    std::string_view pa = std::string_view(a).substr(i, ie == std::string::npos ? std::string::npos : ie - i);
    std::string_view pb = std::string_view(b).substr(j, je == std::string::npos ? std::string::npos : je - j);
    std::uint64_t na = 0, nb = 0;
    bool da = ParseUint(pa, na), db = ParseUint(pb, nb);
    int c = 0;
    if (da && db) c = na < nb ? -1 : na > nb ? 1 : 0;
    else if (da) c = -1;
    else if (db) c = 1;
    else c = pa < pb ? -1 : pa > pb ? 1 : 0;
    if (c != 0) return c;
    if (ie == std::string::npos && je == std::string::npos) return 0;
    if (ie == std::string::npos) return -1;
    if (je == std::string::npos) return 1;
    i = ie + 1;
    j = je + 1;
  }
}

struct Constraint {
  std::string op;
  Parsed ver;
};

bool Check(const Constraint& c, const SemVersion& v) {
  const SemVersion& cv = c.ver.v;
  bool dirty = c.ver.specified < 3;
  if (!v.prerelease.empty() && cv.prerelease.empty()) return false;
  int cmp = CompareSemVersions(v, cv);
  const std::string& op = c.op;
  if (op == "" || op == "=") {
    if (!dirty) return cmp == 0;
    if (c.ver.specified >= 1 && v.major != cv.major) return false;
    if (c.ver.specified >= 2 && v.minor != cv.minor) return false;
    return true;
  }
  if (op == "!=") {
    if (!dirty) return cmp != 0;
    if (c.ver.specified >= 1 && v.major != cv.major) return true;
    if (c.ver.specified >= 2 && v.minor != cv.minor) return true;
    return c.ver.specified == 0 ? false : false;
  }
  if (op == ">") {
    if (!dirty) return cmp > 0;
    if (c.ver.specified == 0) return false;
    if (c.ver.specified == 1) return v.major > cv.major;
    return v.major > cv.major || (v.major == cv.major && v.minor > cv.minor);
  }
  if (op == ">=" || op == "=>") return cmp >= 0;
  if (op == "<") return cmp < 0;
  if (op == "<=" || op == "=<") {
    if (!dirty) return cmp <= 0;
    if (c.ver.specified == 0) return true;
    if (c.ver.specified == 1) return v.major <= cv.major;
    return v.major < cv.major || (v.major == cv.major && v.minor <= cv.minor);
  }
  if (op == "~" || op == "~>") {
    if (cmp < 0) return false;
    if (c.ver.specified <= 1 && c.ver.specified > 0) return v.major == cv.major;
    if (c.ver.specified == 0) return true;
    return v.major == cv.major && v.minor == cv.minor;
  }
  if (op == "^") {
    if (cmp < 0) return false;
    if (cv.major > 0 || c.ver.specified <= 1) return v.major == cv.major;
    if (cv.minor > 0 || c.ver.specified == 2) return v.major == 0 && v.minor == cv.minor;
    return v.major == 0 && v.minor == 0 && v.patch == cv.patch;
  }
  return false;
}

Result<std::vector<std::vector<Constraint>>> ParseConstraints(std::string_view text) {
  std::vector<std::vector<Constraint>> groups;
  std::string s(text);
  std::size_t start = 0;
  while (true) {
    std::size_t bar = s.find("||", start);
    std::string_view group = std::string_view(s).substr(start, bar == std::string::npos ? std::string::npos : bar - start);
    std::vector<Constraint> ands;
    // Tokens: split on commas and spaces, but an operator may be separated
    // from its version by spaces ("> 1.2"); hyphen ranges "1 - 2" too.
    std::vector<std::string> toks;
    std::string cur;
    for (char ch : group) {
      if (ch == ',' || std::isspace(static_cast<unsigned char>(ch))) {
        if (!cur.empty()) toks.push_back(cur);
        cur.clear();
      } else {
        cur += ch;
      }
    }
    if (!cur.empty()) toks.push_back(cur);
    for (std::size_t i = 0; i < toks.size(); ++i) {
      std::string tok = toks[i];
      if (i + 2 < toks.size() && toks[i + 1] == "-") {
        // Built whole rather than assigned field by field: g++ 12 -O3 warns
        // (falsely) about assigning a short literal into a fresh string.
        Constraint lo{std::string(">="), {}};
        Constraint hi{std::string("<="), {}};
        if (!ParseLoose(tok, lo.ver, true) || !ParseLoose(toks[i + 2], hi.ver, true)) {
          return MakeError(ErrorCode::kInvalidInput, "improper constraint: " + std::string(text));
        }
        ands.push_back(lo);
        ands.push_back(hi);
        i += 2;
        continue;
      }
      std::size_t k = 0;
      while (k < tok.size() && (tok[k] == '<' || tok[k] == '>' || tok[k] == '=' || tok[k] == '!' || tok[k] == '~' || tok[k] == '^')) ++k;
      Constraint c;
      c.op = tok.substr(0, k);
      std::string ver = tok.substr(k);
      if (ver.empty() && i + 1 < toks.size()) ver = toks[++i];
      if (!ParseLoose(ver, c.ver, true)) {
        return MakeError(ErrorCode::kInvalidInput, "improper constraint: " + std::string(text));
      }
      ands.push_back(c);
    }
    if (ands.empty()) return MakeError(ErrorCode::kInvalidInput, "improper constraint: " + std::string(text));
    groups.push_back(std::move(ands));
    if (bar == std::string::npos) break;
    start = bar + 2;
  }
  return groups;
}

}  // namespace

Result<SemVersion> ParseSemVersion(std::string_view text) {
  Parsed p;
  if (!ParseLoose(text, p, false)) return MakeError(ErrorCode::kInvalidInput, "Invalid Semantic Version");
  return p.v;
}

int CompareSemVersions(const SemVersion& a, const SemVersion& b) {
  if (a.major != b.major) return a.major < b.major ? -1 : 1;
  if (a.minor != b.minor) return a.minor < b.minor ? -1 : 1;
  if (a.patch != b.patch) return a.patch < b.patch ? -1 : 1;
  return ComparePrerelease(a.prerelease, b.prerelease);
}

Result<bool> SemVerSatisfies(std::string_view constraint, const SemVersion& version) {
  auto groups = ParseConstraints(constraint);
  if (!groups.ok()) return std::move(groups).error();
  for (const auto& ands : *groups) {
    bool all = true;
    for (const auto& c : ands) {
      if (!Check(c, version)) {
        all = false;
        break;
      }
    }
    if (all) return true;
  }
  return false;
}

}  // namespace keelson::helm
