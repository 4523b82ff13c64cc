// Trust policy: which commits a source accepts, and the TrustReport that
// says why for each commit.
//
// Signatures are checked by SignatureVerifier against the configured key
// material (an allowed_signers file for SSH, an OpenPGP keyring, X.509
// roots); TrustPolicy then adds what the key material cannot say: which
// formats count, who may sign at all, who may change which paths, and which
// forge web-flow keys may sign merges. The policy file format is documented
// in docs/trust.md.
//
// Thread safety: TrustPolicy, TrustMaterial and SignatureVerifier are
// immutable after construction and safe to share between threads.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/trust/allowed_signers.h"
#include "agent/trust/git_object.h"
#include "agent/trust/openpgp.h"
#include "agent/trust/x509.h"
#include "renderers/manifest/result.h"

namespace keelson::trust {

// The keys and roots a deployment trusts. A format without material has no
// trusted signers: its signatures fail with a reason saying so.
struct TrustMaterial {
  std::optional<AllowedSigners> ssh;
  std::optional<PgpKeyring> openpgp;
  std::optional<X509Roots> x509;
};

// What a signature check found, before the policy is applied.
struct SignatureCheck {
  bool valid = false;
  SignatureFormat format = SignatureFormat::kNone;
  std::string signer;         // SSH principal(s), OpenPGP user ID e-mail, certificate e-mail
  std::string fingerprint;    // "SHA256:..." (SSH), 40 hex digits (OpenPGP), SHA-256 hex (X.509)
  std::vector<std::string> identities;  // everything a policy may name this signer by
  std::string reason;         // why it is not valid, or what vouched for it
};

class SignatureVerifier {
 public:
  // `material` must outlive the verifier. `now` gives the current time in seconds since the epoch: OpenPGP key
  // expiry and X.509 validity are checked at that time. SSH validity
  // windows (valid-after/valid-before) are checked at the commit's or tag's
  // own timestamp, as git does.
  SignatureVerifier(const TrustMaterial& material, std::function<std::int64_t()> now);

  // `raw` is the object as `git cat-file commit|tag` prints it.
  SignatureCheck VerifyCommit(std::string_view raw, ObjectHash hash = ObjectHash::kSha1) const;
  SignatureCheck VerifyTag(std::string_view raw) const;

  // Verifies an already split object. `timestamp` is the signed object's
  // committer/tagger time; `identity_hint` its e-mail.
  SignatureCheck Verify(const SignedObject& object, std::int64_t timestamp, std::string_view identity_hint) const;

 private:
  const TrustMaterial& material_;
  std::function<std::int64_t()> now_;
};

enum class PolicyMode { kHead, kEveryCommit };

struct PathRule {
  std::string prefix;                // "clusters/prod/"; "" covers every path
  std::vector<std::string> signers;  // identities, patterns or group:NAME
  int line = 0;
};

struct WebFlowKey {
  std::string name;         // "github"; the signer shows as web-flow:github
  std::string fingerprint;  // the forge key's fingerprint (OpenPGP: primary key or signing subkey)
  bool merges_only = true;  // accept it only on commits with two or more parents
};

struct TrustPolicy {
  PolicyMode mode = PolicyMode::kEveryCommit;
  bool first_parent = false;  // walk only first parents of the range
  bool signed_tags = false;   // the revision must be an annotated tag that verifies
  std::vector<SignatureFormat> formats{SignatureFormat::kSsh, SignatureFormat::kOpenPgp, SignatureFormat::kX509};
  std::vector<std::string> signers;  // empty: whoever the key material trusts
  std::map<std::string, std::vector<std::string>> groups;
  std::vector<PathRule> paths;
  std::vector<WebFlowKey> web_flow;

  // Parses the YAML policy file; errors carry file, line, column and field.
  static Result<TrustPolicy> Parse(std::string_view yaml, std::string_view file);

  // True when some path rule exists, i.e. callers must supply changed paths.
  bool NeedsChangedPaths() const { return !paths.empty(); }
};

struct TrustReport {
  std::string object_id;
  std::string object_type;  // "commit" or "tag"
  SignatureFormat format = SignatureFormat::kNone;
  std::string signer;
  std::string fingerprint;
  bool passed = false;
  std::string reason;

  // "ID pass|fail FORMAT SIGNER FINGERPRINT REASON", "-" for empty fields.
  std::string ToLine() const;
};

struct CommitInput {
  std::string id;
  std::string raw;                         // `git cat-file commit ID`
  std::vector<std::string> changed_paths;  // vs the first parent; caller computed
};

// Checks one commit against the policy.
TrustReport EvaluateCommit(const CommitInput& commit, const TrustPolicy& policy, const SignatureVerifier& verifier,
                           ObjectHash hash = ObjectHash::kSha1);
// Checks one annotated tag (its own signature; the policy's signer rules
// apply, path rules do not).
TrustReport EvaluateTag(std::string_view id, std::string_view raw, const TrustPolicy& policy,
                        const SignatureVerifier& verifier);

// True when `signer_spec` (an identity, a glob pattern or group:NAME) names
// one of `identities`.
bool SignerMatches(const TrustPolicy& policy, std::string_view signer_spec, const std::vector<std::string>& identities);

// The trust files a source names (agent config sources[].trust, or the
// flags of `keelson verify`); empty paths are absent.
struct TrustFiles {
  std::string allowed_signers;
  std::string openpgp_keyring;
  std::string x509_roots;
  std::string policy;
};

// Reads and parses every named file. Errors name the file (and line, for
// parse errors); a file that cannot be read is kNotFound, one over 16 MiB is
// refused unread (kLimitExceeded).
Result<TrustMaterial> LoadTrustMaterial(const TrustFiles& files);
// The policy file, when one is named.
Result<std::optional<TrustPolicy>> LoadTrustPolicy(const TrustFiles& files);

// The whole file at `path`, for the loaders above: kNotFound when it cannot
// be read, kLimitExceeded over `cap` bytes. `what` names it in errors.
Result<std::string> ReadTrustFile(const std::string& path, std::string_view what, std::size_t cap = 16u << 20);

}  // namespace keelson::trust
