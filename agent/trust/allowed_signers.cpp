#include "agent/trust/allowed_signers.h"

#include <cctype>
#include <charconv>
#include <ctime>

#include "agent/trust/policy.h"

namespace keelson::trust {
namespace {

Error LineError(std::string_view file, int line, int column, std::string message) {
  Location where;
  where.file.assign(file);
  where.line = line;
  where.column = column;
  return MakeError(ErrorCode::kInvalidInput, std::move(message), where);
}

std::vector<std::string> SplitCommas(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    std::string_view part = text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (!part.empty()) out.emplace_back(part);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

// Reads one whitespace-separated field; double quotes group (used for
// principals and option values).
std::string_view NextField(std::string_view line, std::size_t& pos) {
  while (pos < line.size() && IsSpace(line[pos])) ++pos;
  std::size_t start = pos;
  bool quoted = false;
  while (pos < line.size()) {
    char c = line[pos];
    if (c == '"') quoted = !quoted;
    else if (!quoted && IsSpace(c)) break;
    ++pos;
  }
  return line.substr(start, pos - start);
}

std::string Unquote(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') return std::string(v.substr(1, v.size() - 2));
  return std::string(v);
}

bool LooksLikeKeyType(std::string_view v) {
  return v.starts_with("ssh-") || v.starts_with("ecdsa-") || v.starts_with("sk-") || v.starts_with("rsa-");
}

std::string FormatTime(std::int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

bool MatchPattern(std::string_view text, std::string_view pattern) {
  // Iterative glob with single-star backtracking: linear in practice, no
  // recursion depth to exhaust.
  std::size_t t = 0, p = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++t;
      ++p;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool MatchPatternList(std::string_view text, const std::vector<std::string>& patterns) {
  bool matched = false;
  for (const std::string& pattern : patterns) {
    if (!pattern.empty() && pattern[0] == '!') {
      if (MatchPattern(text, std::string_view(pattern).substr(1))) return false;
    } else if (MatchPattern(text, pattern)) {
      matched = true;
    }
  }
  return matched;
}

std::optional<std::int64_t> ParseSshTime(std::string_view text) {
  bool utc = false;
  if (!text.empty() && (text.back() == 'Z' || text.back() == 'z')) {
    utc = true;
    text.remove_suffix(1);
  }
  if (text.size() != 8 && text.size() != 12 && text.size() != 14) return std::nullopt;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  auto num = [&](std::size_t at, std::size_t len) {
    int v = 0;
    std::from_chars(text.data() + at, text.data() + at + len, v);
    return v;
  };
  std::tm tm{};
  tm.tm_year = num(0, 4) - 1900;
  tm.tm_mon = num(4, 2) - 1;
  tm.tm_mday = num(6, 2);
  if (text.size() >= 12) {
    tm.tm_hour = num(8, 2);
    tm.tm_min = num(10, 2);
  }
  if (text.size() == 14) tm.tm_sec = num(12, 2);
  if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 59) {
    return std::nullopt;
  }
  tm.tm_isdst = -1;
  std::time_t t = utc ? timegm(&tm) : mktime(&tm);
  if (t == static_cast<std::time_t>(-1)) return std::nullopt;
  return static_cast<std::int64_t>(t);
}

Result<AllowedSigners> AllowedSigners::Load(const std::string& path) {
  Result<std::string> text = ReadTrustFile(path, "allowed signers file", kMaxAllowedSignersBytes);
  if (!text.ok()) return std::move(text).error();
  return Parse(*text, path);
}

Result<AllowedSigners> AllowedSigners::Parse(std::string_view text, std::string_view file) {
  if (text.size() > kMaxAllowedSignersBytes) {
    return MakeError(ErrorCode::kLimitExceeded, std::string(file) + ": file is larger than 16 MiB");
  }
  AllowedSigners out;
  std::size_t pos = 0;
  int line_no = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    std::string_view line = text.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    pos = eol == std::string_view::npos ? text.size() : eol + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::size_t cursor = 0;
    while (cursor < line.size() && IsSpace(line[cursor])) ++cursor;
    if (cursor == line.size() || line[cursor] == '#') continue;

    AllowedSigner signer;
    signer.line = line_no;
    std::string_view principals = NextField(line, cursor);
    signer.principals = Unquote(principals);
    signer.principal_patterns = SplitCommas(signer.principals);
    if (signer.principal_patterns.empty()) return LineError(file, line_no, 1, "no principals");

    std::size_t field_start = cursor;
    while (field_start < line.size() && IsSpace(line[field_start])) ++field_start;
    std::string_view field = NextField(line, cursor);
    if (field.empty()) return LineError(file, line_no, static_cast<int>(cursor) + 1, "missing key");
    if (!LooksLikeKeyType(field)) {
      // Options: comma-separated, values may be quoted and hold commas.
      std::size_t i = 0;
      while (i < field.size()) {
        std::size_t start = i;
        bool quoted = false;
        while (i < field.size() && (quoted || field[i] != ',')) {
          if (field[i] == '"') quoted = !quoted;
          ++i;
        }
        std::string_view option = field.substr(start, i - start);
        ++i;
        int column = static_cast<int>(field_start + start) + 1;
        std::size_t eq = option.find('=');
        std::string name(option.substr(0, eq));
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::string value = eq == std::string_view::npos ? "" : Unquote(option.substr(eq + 1));
        if (name == "cert-authority") {
          return LineError(file, line_no, column,
                           "cert-authority is not supported: Keelson verifies plain SSH keys only; list each "
                           "signer's public key instead");
        } else if (name == "namespaces") {
          signer.namespaces = SplitCommas(value);
        } else if (name == "valid-after" || name == "valid-before") {
          std::optional<std::int64_t> t = ParseSshTime(value);
          if (!t) {
            return LineError(file, line_no, column,
                             name + ": \"" + value + "\" is not a time (YYYYMMDD[HHMM[SS]][Z])");
          }
          (name == "valid-after" ? signer.valid_after : signer.valid_before) = *t;
        } else {
          return LineError(file, line_no, column, "unknown option \"" + name + "\"");
        }
      }
      field = NextField(line, cursor);
    }
    std::size_t key_column = cursor;
    std::string_view key_data = NextField(line, cursor);
    if (field.empty() || key_data.empty()) return LineError(file, line_no, static_cast<int>(cursor) + 1, "missing key");
    Result<SshPublicKey> key = ParseSshPublicKeyText(field, key_data);
    if (!key.ok()) {
      return LineError(file, line_no, static_cast<int>(key_column - key_data.size()) + 1, key.error().message);
    }
    signer.key = std::move(key).value();
    out.signers_.push_back(std::move(signer));
  }
  return out;
}

Result<const AllowedSigner*> AllowedSigners::Find(const SshPublicKey& key, std::string_view name_space,
                                                  std::int64_t time, std::string_view identity_hint) const {
  const AllowedSigner* best = nullptr;
  std::string why;
  bool key_known = false;
  for (const AllowedSigner& s : signers_) {
    if (s.key.blob.size() != key.blob.size() || !ConstantTimeEquals(s.key.blob, key.blob)) continue;
    key_known = true;
    if (s.namespaces && !MatchPatternList(name_space, *s.namespaces)) {
      why = "allowed signers line " + std::to_string(s.line) + " does not allow namespace \"" +
            std::string(name_space) + "\"";
      continue;
    }
    if (s.valid_after && time < *s.valid_after) {
      why = "key " + key.Fingerprint() + " is valid only after " + FormatTime(*s.valid_after) +
            " (allowed signers line " + std::to_string(s.line) + "), signed at " + FormatTime(time);
      continue;
    }
    if (s.valid_before && time > *s.valid_before) {
      why = "key " + key.Fingerprint() + " expired at " + FormatTime(*s.valid_before) + " (allowed signers line " +
            std::to_string(s.line) + "), signed at " + FormatTime(time);
      continue;
    }
    if (!best) best = &s;
    if (!identity_hint.empty() && MatchPatternList(identity_hint, s.principal_patterns)) {
      best = &s;
      break;
    }
  }
  if (best) return best;
  if (!key_known) {
    return MakeError(ErrorCode::kCheckFailed, "key " + key.Fingerprint() + " is not in the allowed signers");
  }
  return MakeError(ErrorCode::kCheckFailed, why);
}

}  // namespace keelson::trust
