#include "agent/trust/git_object.h"

#include <charconv>

namespace keelson::trust {
namespace {

struct Marker {
  std::string_view begin;
  SignatureFormat format;
};
constexpr Marker kMarkers[] = {
    {"-----BEGIN PGP SIGNATURE-----", SignatureFormat::kOpenPgp},
    {"-----BEGIN PGP MESSAGE-----", SignatureFormat::kOpenPgp},
    {"-----BEGIN SIGNED MESSAGE-----", SignatureFormat::kX509},
    {"-----BEGIN SSH SIGNATURE-----", SignatureFormat::kSsh},
};

Error ObjectError(int line, std::string message) {
  Location where;
  where.line = line;
  return MakeError(ErrorCode::kInvalidInput, std::move(message), where);
}

Status CheckSize(std::string_view raw) {
  if (raw.size() > kMaxObjectBytes) {
    return MakeError(ErrorCode::kLimitExceeded, "object of " + std::to_string(raw.size()) +
                                                    " bytes exceeds the limit of " +
                                                    std::to_string(kMaxObjectBytes));
  }
  return Status::Ok();
}

bool IsHexId(std::string_view s) {
  if (s.size() != 40 && s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Iterates the header lines of an object (up to the first empty line),
// joining continuation lines (those starting with a space) to their header.
template <typename Fn>
Status ForEachHeader(std::string_view raw, Fn&& fn) {
  std::size_t pos = 0;
  int line = 0;
  std::string key, value;
  int key_line = 0;
  bool have = false;
  auto flush = [&]() -> Status {
    if (!have) return Status::Ok();
    have = false;
    return fn(key, value, key_line);
  };
  while (pos < raw.size()) {
    std::size_t eol = raw.find('\n', pos);
    std::string_view text = raw.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    pos = eol == std::string_view::npos ? raw.size() : eol + 1;
    ++line;
    if (text.empty()) break;
    if (text[0] == ' ') {
      if (!have) return ObjectError(line, "continuation line without a header");
      value += '\n';
      value.append(text.substr(1));
      continue;
    }
    if (Status s = flush(); !s) return s;
    std::size_t space = text.find(' ');
    if (space == std::string_view::npos || space == 0) return ObjectError(line, "header line without a value");
    key.assign(text.substr(0, space));
    value.assign(text.substr(space + 1));
    key_line = line;
    have = true;
  }
  return flush();
}

}  // namespace

const char* SignatureFormatName(SignatureFormat format) {
  switch (format) {
    case SignatureFormat::kNone: return "none";
    case SignatureFormat::kSsh: return "ssh";
    case SignatureFormat::kOpenPgp: return "openpgp";
    case SignatureFormat::kX509: return "x509";
  }
  return "none";
}

SignatureFormat DetectSignatureFormat(std::string_view armored) {
  for (const Marker& m : kMarkers) {
    if (armored.starts_with(m.begin)) return m.format;
  }
  return SignatureFormat::kNone;
}

Result<SignedObject> SplitCommitSignature(std::string_view raw, ObjectHash hash) {
  if (Status s = CheckSize(raw); !s) return std::move(s).error();
  const std::string_view wanted = hash == ObjectHash::kSha1 ? "gpgsig" : "gpgsig-sha256";
  SignedObject out;
  out.payload.reserve(raw.size());
  std::size_t pos = 0;
  bool in_wanted = false, in_other = false, saw = false;
  while (pos < raw.size()) {
    std::size_t eol = raw.find('\n', pos);
    std::size_t next = eol == std::string_view::npos ? raw.size() : eol + 1;
    std::string_view line = raw.substr(pos, next - pos);
    if (line == "\n" || line.empty()) {
      // The message: copied as it is.
      out.payload.append(raw.substr(pos));
      break;
    }
    if ((in_wanted || in_other) && line[0] == ' ') {
      if (in_wanted) out.signature.append(line.substr(1));
    } else if (line.starts_with(wanted) && line.size() > wanted.size() && line[wanted.size()] == ' ') {
      if (saw) return ObjectError(0, "commit has more than one " + std::string(wanted) + " header");
      saw = true;
      in_wanted = true;
      in_other = false;
      out.signature.append(line.substr(wanted.size() + 1));
    } else if (line.starts_with("gpgsig")) {
      // A signature for the other hash flavour is never part of the payload.
      in_other = true;
      in_wanted = false;
    } else {
      in_wanted = in_other = false;
      out.payload.append(line);
    }
    pos = next;
  }
  if (saw) out.format = DetectSignatureFormat(out.signature);
  return out;
}

Result<SignedObject> SplitTagSignature(std::string_view raw) {
  if (Status s = CheckSize(raw); !s) return std::move(s).error();
  // The body starts after the first empty line; signatures live only there.
  std::size_t body = raw.find("\n\n");
  std::size_t match = std::string_view::npos;
  std::size_t pos = body == std::string_view::npos ? raw.size() : body + 2;
  while (pos < raw.size()) {
    if (DetectSignatureFormat(raw.substr(pos)) != SignatureFormat::kNone) match = pos;
    std::size_t eol = raw.find('\n', pos);
    pos = eol == std::string_view::npos ? raw.size() : eol + 1;
  }
  SignedObject out;
  if (match == std::string_view::npos) {
    out.payload.assign(raw);
    return out;
  }
  out.payload.assign(raw.substr(0, match));
  out.signature.assign(raw.substr(match));
  out.format = DetectSignatureFormat(out.signature);
  return out;
}

Result<GitIdentity> ParseGitIdentity(std::string_view text) {
  std::size_t open = text.find('<');
  std::size_t close = text.rfind('>');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return MakeError(ErrorCode::kInvalidInput, "identity without <email>");
  }
  GitIdentity id;
  std::string_view name = text.substr(0, open);
  while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
  id.name.assign(name);
  id.email.assign(text.substr(open + 1, close - open - 1));
  std::string_view rest = text.substr(close + 1);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  std::size_t space = rest.find(' ');
  std::string_view stamp = rest.substr(0, space);
  auto [p, ec] = std::from_chars(stamp.data(), stamp.data() + stamp.size(), id.time);
  if (ec != std::errc() || p != stamp.data() + stamp.size() || stamp.empty()) {
    return MakeError(ErrorCode::kInvalidInput, "identity without a valid timestamp");
  }
  if (space != std::string_view::npos) {
    std::string_view tz = rest.substr(space + 1);
    if (tz.size() == 5 && (tz[0] == '+' || tz[0] == '-')) {
      int hh = 0, mm = 0;
      std::from_chars(tz.data() + 1, tz.data() + 3, hh);
      std::from_chars(tz.data() + 3, tz.data() + 5, mm);
      id.offset_minutes = (tz[0] == '-' ? -1 : 1) * (hh * 60 + mm);
    }
  }
  return id;
}

Result<CommitHeader> ParseCommitHeader(std::string_view raw) {
  if (Status s = CheckSize(raw); !s) return std::move(s).error();
  CommitHeader header;
  bool have_author = false, have_committer = false;
  Status s = ForEachHeader(raw, [&](const std::string& key, const std::string& value, int line) -> Status {
    if (key == "tree") {
      if (!header.tree.empty() || !IsHexId(value)) return ObjectError(line, "bad tree header");
      header.tree = value;
    } else if (key == "parent") {
      if (!IsHexId(value)) return ObjectError(line, "bad parent header");
      header.parents.push_back(value);
    } else if (key == "author" || key == "committer") {
      Result<GitIdentity> id = ParseGitIdentity(value);
      if (!id.ok()) return ObjectError(line, key + ": " + id.error().message);
      (key == "author" ? header.author : header.committer) = std::move(id).value();
      (key == "author" ? have_author : have_committer) = true;
    }
    return Status::Ok();
  });
  if (!s) return std::move(s).error();
  if (header.tree.empty()) return ObjectError(1, "commit has no tree header");
  if (!have_author || !have_committer) return ObjectError(0, "commit lacks an author or committer header");
  return header;
}

Result<TagHeader> ParseTagHeader(std::string_view raw) {
  if (Status s = CheckSize(raw); !s) return std::move(s).error();
  TagHeader header;
  Status s = ForEachHeader(raw, [&](const std::string& key, const std::string& value, int line) -> Status {
    if (key == "object") {
      if (!IsHexId(value)) return ObjectError(line, "bad object header");
      header.object = value;
    } else if (key == "type") {
      header.type = value;
    } else if (key == "tag") {
      header.name = value;
    } else if (key == "tagger") {
      Result<GitIdentity> id = ParseGitIdentity(value);
      if (!id.ok()) return ObjectError(line, "tagger: " + id.error().message);
      header.tagger = std::move(id).value();
    }
    return Status::Ok();
  });
  if (!s) return std::move(s).error();
  if (header.object.empty() || header.type.empty() || header.name.empty()) {
    return ObjectError(0, "tag lacks an object, type or tag header");
  }
  return header;
}

}  // namespace keelson::trust
