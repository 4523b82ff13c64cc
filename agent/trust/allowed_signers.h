// OpenSSH's allowed_signers file (ssh-keygen(1), "ALLOWED SIGNERS"), the
// file git's gpg.ssh.allowedSignersFile names:
//
//   principals [options] keytype base64-key [comment]
//
// principals is a comma-separated list of patterns (* and ?, a leading !
// negates); options are namespaces="a,b", valid-after=TIME and
// valid-before=TIME (TIME is YYYYMMDD[HHMM[SS]], local time unless it ends
// in Z, as OpenSSH reads it). cert-authority lines are refused when the file
// is loaded: Keelson verifies plain keys only. An AllowedSigners is
// immutable after Parse and safe to share between threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/trust/sshsig.h"
#include "renderers/manifest/result.h"

namespace keelson::trust {

struct AllowedSigner {
  std::string principals;                      // the field as written
  std::vector<std::string> principal_patterns; // split on commas
  std::optional<std::vector<std::string>> namespaces;  // patterns; unset: any
  std::optional<std::int64_t> valid_after;     // seconds since the epoch
  std::optional<std::int64_t> valid_before;
  SshPublicKey key;
  int line = 0;
};

// Files larger than this are refused.
inline constexpr std::size_t kMaxAllowedSignersBytes = 16u << 20;

class AllowedSigners {
 public:
  // `file` names the file in errors ("allowed_signers:3:14: ...").
  static Result<AllowedSigners> Parse(std::string_view text, std::string_view file);
  // Reads the file at `path` (kNotFound when it cannot be read; files over
  // kMaxAllowedSignersBytes are refused unread) and parses it.
  static Result<AllowedSigners> Load(const std::string& path);

  const std::vector<AllowedSigner>& signers() const { return signers_; }

  // The line that authorises `key` for `name_space` at `time` (the signed
  // object's timestamp, as git passes it to ssh-keygen). When several do,
  // one whose principals match `identity_hint` (the committer's e-mail) is
  // preferred. kCheckFailed saying why when none does: unknown key, wrong
  // namespace, not yet or no longer valid.
  Result<const AllowedSigner*> Find(const SshPublicKey& key, std::string_view name_space, std::int64_t time,
                                    std::string_view identity_hint = "") const;

 private:
  std::vector<AllowedSigner> signers_;
};

// OpenSSH pattern matching: '*' any run, '?' any one character.
bool MatchPattern(std::string_view text, std::string_view pattern);
// A comma-separated pattern list: true when some pattern matches and no
// negated (!) pattern does.
bool MatchPatternList(std::string_view text, const std::vector<std::string>& patterns);

// Reads YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS, optionally followed by Z
// (UTC; otherwise local time). nullopt when malformed.
std::optional<std::int64_t> ParseSshTime(std::string_view text);

}  // namespace keelson::trust
