// Splits raw Git commit and annotated tag objects (the bytes `git cat-file
// commit X` prints) into the payload that was signed and the signature,
// exactly as git itself does before handing them to ssh-keygen, gpg or
// gpgsm, and reads the header fields trust decisions need.
//
// Pure functions over the given bytes; thread-safe. Malformed objects give
// kInvalidInput errors naming the object line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "renderers/manifest/result.h"

namespace keelson::trust {

// Objects larger than this are refused before parsing.
inline constexpr std::size_t kMaxObjectBytes = 16u << 20;

enum class SignatureFormat { kNone, kSsh, kOpenPgp, kX509 };
const char* SignatureFormatName(SignatureFormat format);  // "none", "ssh", "openpgp", "x509"

// The format an armored signature is in, from its first line; kNone when
// the text starts with no known marker.
SignatureFormat DetectSignatureFormat(std::string_view armored);

// The object-id flavour of the repository: SHA-1 repositories keep commit
// signatures in the `gpgsig` header, SHA-256 ones in `gpgsig-sha256`.
enum class ObjectHash { kSha1, kSha256 };

struct SignedObject {
  std::string payload;    // the exact bytes the signer signed
  std::string signature;  // armored signature text; empty when unsigned
  SignatureFormat format = SignatureFormat::kNone;
};

// A commit: the signature header for `hash` (with its continuation lines)
// is taken out, and every other gpgsig* header is left out of the payload,
// as git does.
Result<SignedObject> SplitCommitSignature(std::string_view raw, ObjectHash hash = ObjectHash::kSha1);

// An annotated tag: the signature is everything from the last line that
// starts an armored signature to the end; the payload is what precedes it.
Result<SignedObject> SplitTagSignature(std::string_view raw);

struct GitIdentity {
  std::string name;
  std::string email;
  std::int64_t time = 0;     // seconds since the epoch
  int offset_minutes = 0;    // time zone offset east of UTC
};

struct CommitHeader {
  std::string tree;
  std::vector<std::string> parents;
  GitIdentity author;
  GitIdentity committer;
};

struct TagHeader {
  std::string object;
  std::string type;  // "commit", "tree", ...
  std::string name;
  std::optional<GitIdentity> tagger;
};

Result<CommitHeader> ParseCommitHeader(std::string_view raw);
Result<TagHeader> ParseTagHeader(std::string_view raw);

// "Name <email> 1700000000 +0100"
Result<GitIdentity> ParseGitIdentity(std::string_view text);

}  // namespace keelson::trust
