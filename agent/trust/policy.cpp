#include "agent/trust/policy.h"

#include <algorithm>
#include <cctype>
#include <fstream>

#include "agent/trust/encoding.h"
#include "agent/trust/sshsig.h"
#include "renderers/manifest/yaml.h"

namespace keelson::trust {
namespace {

using manifest::Node;

// Fingerprints are compared without spaces or colons and, except SSH's
// base64 form, without regard to case.
std::string NormalizeIdentity(std::string_view s) {
  if (s.starts_with("SHA256:")) return std::string(s);
  std::string out;
  for (char c : s) {
    if (c != ' ' && c != ':') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

bool PathUnder(std::string_view path, std::string_view prefix) {
  if (prefix.empty()) return true;
  if (prefix.back() == '/') return path.starts_with(prefix);
  return path == prefix || (path.starts_with(prefix) && path[prefix.size()] == '/');
}

std::string JoinSpecs(const std::vector<std::string>& specs) {
  std::string out;
  for (const std::string& s : specs) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// ---- policy file parsing ----

Error FieldError(std::string_view file, const Node& node, std::string field, std::string message) {
  Location where;
  where.file.assign(file);
  where.line = node.mark().line;
  where.column = node.mark().column;
  where.field = std::move(field);
  return MakeError(ErrorCode::kInvalidInput, std::move(message), where);
}

Result<std::vector<std::string>> StringList(std::string_view file, const Node& node, const std::string& field) {
  if (!node.IsSequence()) return FieldError(file, node, field, "must be a list of strings");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < node.items().size(); ++i) {
    const Node& item = node.items()[i];
    if (!item.IsString() || item.AsString().empty()) {
      return FieldError(file, item, field + "[" + std::to_string(i) + "]", "must be a non-empty string");
    }
    out.push_back(item.AsString());
  }
  return out;
}

Status CheckKeys(std::string_view file, const Node& map, const std::string& field,
                 std::initializer_list<std::string_view> known) {
  for (const Node::Entry& e : map.entries()) {
    if (std::find(known.begin(), known.end(), e.key) == known.end()) {
      Location where;
      where.file.assign(file);
      where.line = e.key_mark.line;
      where.column = e.key_mark.column;
      where.field = field.empty() ? e.key : field + "." + e.key;
      std::string list;
      for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      return MakeError(ErrorCode::kInvalidInput, "unknown field (known: " + list + ")", where);
    }
  }
  return Status::Ok();
}

}  // namespace

// ---- signature verification ----

SignatureVerifier::SignatureVerifier(const TrustMaterial& material, std::function<std::int64_t()> now)
    : material_(material), now_(std::move(now)) {}

SignatureCheck SignatureVerifier::VerifyCommit(std::string_view raw, ObjectHash hash) const {
  SignatureCheck check;
  Result<SignedObject> split = SplitCommitSignature(raw, hash);
  if (!split.ok()) {
    check.reason = "malformed commit: " + split.error().ToString();
    return check;
  }
  Result<CommitHeader> header = ParseCommitHeader(raw);
  if (!header.ok()) {
    check.reason = "malformed commit: " + header.error().ToString();
    return check;
  }
  if (split->signature.empty()) {
    check.reason = "commit is not signed";
    return check;
  }
  return Verify(*split, header->committer.time, header->committer.email);
}

SignatureCheck SignatureVerifier::VerifyTag(std::string_view raw) const {
  SignatureCheck check;
  Result<SignedObject> split = SplitTagSignature(raw);
  if (!split.ok()) {
    check.reason = "malformed tag: " + split.error().ToString();
    return check;
  }
  Result<TagHeader> header = ParseTagHeader(raw);
  if (!header.ok()) {
    check.reason = "malformed tag: " + header.error().ToString();
    return check;
  }
  if (split->signature.empty()) {
    check.reason = "tag is not signed";
    return check;
  }
  std::int64_t when = header->tagger ? header->tagger->time : now_();
  return Verify(*split, when, header->tagger ? header->tagger->email : "");
}

SignatureCheck SignatureVerifier::Verify(const SignedObject& object, std::int64_t timestamp,
                                         std::string_view identity_hint) const {
  SignatureCheck check;
  check.format = object.format;
  switch (object.format) {
    case SignatureFormat::kNone:
      check.reason = "signature is in an unknown format";
      return check;
    case SignatureFormat::kSsh: {
      Result<SshSignature> sig = ParseSshSignature(object.signature);
      if (!sig.ok()) {
        check.reason = sig.error().message;
        return check;
      }
      check.fingerprint = sig->key.Fingerprint();
      check.identities.push_back(check.fingerprint);
      if (!material_.ssh) {
        check.reason = "no allowed signers file is configured for SSH signatures";
        return check;
      }
      // The cheap checks come first, so a signature by a key nobody trusts
      // costs no public-key operation.
      if (sig->name_space != "git") {
        check.reason = "SSH signature is for namespace \"" + sig->name_space + "\", expected \"git\"";
        return check;
      }
      Result<const AllowedSigner*> signer = material_.ssh->Find(sig->key, "git", timestamp, identity_hint);
      if (!signer.ok()) {
        check.reason = signer.error().message;
        return check;
      }
      if (Status s = VerifySshSignature(*sig, object.payload, "git"); !s) {
        check.reason = s.error().message;
        return check;
      }
      const AllowedSigner& line = **signer;
      // The identity is the committer's e-mail when the line's principals
      // cover it, else the principals as written.
      check.signer = !identity_hint.empty() && MatchPatternList(identity_hint, line.principal_patterns)
                         ? std::string(identity_hint)
                         : line.principals;
      check.identities.push_back(check.signer);
      for (const std::string& p : line.principal_patterns) check.identities.push_back(p);
      check.valid = true;
      check.reason = "allowed signers line " + std::to_string(line.line);
      return check;
    }
    case SignatureFormat::kOpenPgp: {
      Result<PgpSignature> sig = ParseArmoredPgpSignature(object.signature);
      if (!sig.ok()) {
        check.reason = sig.error().message;
        return check;
      }
      // Until a key is found, the issuer the signature names is all we know.
      check.fingerprint = HexEncode(!sig->issuer_fingerprint.empty() ? sig->issuer_fingerprint : sig->issuer_key_id,
                                    true);
      if (!material_.openpgp) {
        check.reason = "no OpenPGP keyring is configured";
        return check;
      }
      Result<PgpSigner> signer = material_.openpgp->Verify(*sig, object.payload, now_());
      if (!signer.ok()) {
        check.reason = signer.error().message;
        return check;
      }
      check.fingerprint = signer->key->FingerprintHex();
      check.signer = PgpUserIdEmail(signer->certificate->primary_user_id);
      check.identities.push_back(check.fingerprint);
      check.identities.push_back(signer->certificate->primary.FingerprintHex());
      for (const std::string& uid : signer->certificate->user_ids) check.identities.push_back(PgpUserIdEmail(uid));
      check.valid = true;
      check.reason = "key of \"" + signer->certificate->primary_user_id + "\"";
      return check;
    }
    case SignatureFormat::kX509: {
      if (!material_.x509) {
        check.reason = "no X.509 root certificates are configured";
        return check;
      }
      Result<X509Signer> signer = VerifyCmsSignature(object.signature, object.payload, *material_.x509, now_());
      if (!signer.ok()) {
        check.reason = signer.error().message;
        return check;
      }
      check.fingerprint = signer->fingerprint;
      check.signer = signer->email.empty() ? signer->subject : signer->email;
      check.identities = {check.fingerprint, check.signer, signer->subject};
      check.valid = true;
      check.reason = "certificate \"" + signer->subject + "\"";
      return check;
    }
  }
  return check;
}

// ---- policy ----

bool SignerMatches(const TrustPolicy& policy, std::string_view spec, const std::vector<std::string>& identities) {
  if (spec.starts_with("group:")) {
    auto it = policy.groups.find(std::string(spec.substr(6)));
    if (it == policy.groups.end()) return false;
    for (const std::string& member : it->second) {
      // Groups do not nest, so a group cannot name itself into a loop.
      if (!member.starts_with("group:") && SignerMatches(policy, member, identities)) return true;
    }
    return false;
  }
  const std::string want = NormalizeIdentity(spec);
  for (const std::string& id : identities) {
    if (id.empty()) continue;
    if (MatchPattern(NormalizeIdentity(id), want)) return true;
  }
  return false;
}

Result<TrustPolicy> TrustPolicy::Parse(std::string_view yaml, std::string_view file) {
  manifest::ParseOptions options;
  options.file.assign(file);
  options.max_input_bytes = 4u << 20;
  Result<Node> parsed = manifest::ParseYaml(yaml, options);
  if (!parsed.ok()) return std::move(parsed).error();
  const Node& root = *parsed;
  TrustPolicy policy;
  if (root.IsNull()) return policy;
  if (!root.IsMapping()) return FieldError(file, root, "", "the policy must be a mapping");
  if (Status s = CheckKeys(file, root, "", {"mode", "parents", "signedTags", "formats", "signers", "groups", "paths",
                                            "webFlow"});
      !s) {
    return std::move(s).error();
  }
  if (const Node* n = root.Find("mode")) {
    std::string v = n->IsString() ? n->AsString() : "";
    if (v == "head") policy.mode = PolicyMode::kHead;
    else if (v == "every-commit") policy.mode = PolicyMode::kEveryCommit;
    else return FieldError(file, *n, "mode", "must be head or every-commit");
  }
  if (const Node* n = root.Find("parents")) {
    std::string v = n->IsString() ? n->AsString() : "";
    if (v == "first-parent") policy.first_parent = true;
    else if (v == "all") policy.first_parent = false;
    else return FieldError(file, *n, "parents", "must be first-parent or all");
  }
  if (const Node* n = root.Find("signedTags")) {
    if (!n->IsBool()) return FieldError(file, *n, "signedTags", "must be true or false");
    policy.signed_tags = n->AsBool();
  }
  if (const Node* n = root.Find("formats")) {
    Result<std::vector<std::string>> list = StringList(file, *n, "formats");
    if (!list.ok()) return std::move(list).error();
    policy.formats.clear();
    for (std::size_t i = 0; i < list->size(); ++i) {
      const std::string& f = (*list)[i];
      if (f == "ssh") policy.formats.push_back(SignatureFormat::kSsh);
      else if (f == "openpgp") policy.formats.push_back(SignatureFormat::kOpenPgp);
      else if (f == "x509") policy.formats.push_back(SignatureFormat::kX509);
      else return FieldError(file, n->items()[i], "formats[" + std::to_string(i) + "]", "must be ssh, openpgp or x509");
    }
  }
  if (const Node* n = root.Find("groups")) {
    if (!n->IsMapping()) return FieldError(file, *n, "groups", "must map group names to lists of signers");
    for (const Node::Entry& e : n->entries()) {
      Result<std::vector<std::string>> list = StringList(file, e.value, "groups." + e.key);
      if (!list.ok()) return std::move(list).error();
      for (std::size_t i = 0; i < list->size(); ++i) {
        if ((*list)[i].starts_with("group:")) {
          return FieldError(file, e.value.items()[i], "groups." + e.key + "[" + std::to_string(i) + "]",
                            "groups cannot contain other groups");
        }
      }
      policy.groups[e.key] = std::move(list).value();
    }
  }
  auto check_groups = [&](const Node& list_node, const std::vector<std::string>& specs,
                          const std::string& field) -> Status {
    for (std::size_t i = 0; i < specs.size(); ++i) {
      if (specs[i].starts_with("group:") && !policy.groups.contains(specs[i].substr(6))) {
        return FieldError(file, list_node.items()[i], field + "[" + std::to_string(i) + "]",
                          "unknown group \"" + specs[i].substr(6) + "\"");
      }
    }
    return Status::Ok();
  };
  if (const Node* n = root.Find("signers")) {
    Result<std::vector<std::string>> list = StringList(file, *n, "signers");
    if (!list.ok()) return std::move(list).error();
    if (Status s = check_groups(*n, *list, "signers"); !s) return std::move(s).error();
    policy.signers = std::move(list).value();
  }
  if (const Node* n = root.Find("paths")) {
    if (!n->IsSequence()) return FieldError(file, *n, "paths", "must be a list of {prefix, signers}");
    for (std::size_t i = 0; i < n->items().size(); ++i) {
      const Node& item = n->items()[i];
      const std::string field = "paths[" + std::to_string(i) + "]";
      if (!item.IsMapping()) return FieldError(file, item, field, "must be a mapping with prefix and signers");
      if (Status s = CheckKeys(file, item, field, {"prefix", "signers"}); !s) return std::move(s).error();
      PathRule rule;
      rule.line = item.mark().line;
      const Node* prefix = item.Find("prefix");
      if (!prefix || !prefix->IsString()) return FieldError(file, item, field + ".prefix", "must be a string");
      rule.prefix = prefix->AsString();
      if (rule.prefix.starts_with("/") || rule.prefix.find("..") != std::string::npos) {
        return FieldError(file, *prefix, field + ".prefix", "must be relative to the repository root, without ..");
      }
      const Node* signers = item.Find("signers");
      if (!signers) return FieldError(file, item, field + ".signers", "is required");
      Result<std::vector<std::string>> list = StringList(file, *signers, field + ".signers");
      if (!list.ok()) return std::move(list).error();
      if (Status s = check_groups(*signers, *list, field + ".signers"); !s) return std::move(s).error();
      rule.signers = std::move(list).value();
      policy.paths.push_back(std::move(rule));
    }
  }
  if (const Node* n = root.Find("webFlow")) {
    if (!n->IsSequence()) return FieldError(file, *n, "webFlow", "must be a list of {name, fingerprint}");
    for (std::size_t i = 0; i < n->items().size(); ++i) {
      const Node& item = n->items()[i];
      const std::string field = "webFlow[" + std::to_string(i) + "]";
      if (!item.IsMapping()) return FieldError(file, item, field, "must be a mapping with name and fingerprint");
      if (Status s = CheckKeys(file, item, field, {"name", "fingerprint", "mergesOnly"}); !s) return std::move(s).error();
      WebFlowKey key;
      const Node* name = item.Find("name");
      const Node* fpr = item.Find("fingerprint");
      if (!name || !name->IsString() || name->AsString().empty()) {
        return FieldError(file, item, field + ".name", "must be a non-empty string");
      }
      if (!fpr || !fpr->IsString() || fpr->AsString().size() < 16) {
        return FieldError(file, item, field + ".fingerprint", "must be a full key fingerprint");
      }
      key.name = name->AsString();
      key.fingerprint = fpr->AsString();
      if (const Node* m = item.Find("mergesOnly")) {
        if (!m->IsBool()) return FieldError(file, *m, field + ".mergesOnly", "must be true or false");
        key.merges_only = m->AsBool();
      }
      policy.web_flow.push_back(std::move(key));
    }
  }
  return policy;
}

std::string TrustReport::ToLine() const {
  auto field = [](const std::string& s) {
    if (s.empty()) return std::string("-");
    std::string out = s;
    for (char& c : out) {
      if (c == ' ' || c == '\t' || c == '\n') c = '_';
    }
    return out;
  };
  std::string line = object_id + " " + (passed ? "pass" : "fail") + " " + SignatureFormatName(format) + " " +
                     field(signer) + " " + field(fingerprint);
  if (!reason.empty()) {
    std::string r = reason;
    for (char& c : r) {
      if (c == '\n') c = ' ';
    }
    line += " " + r;
  }
  return line;
}

namespace {

// Applies the format, signer and (optionally) path rules to a valid check.
void ApplyPolicy(TrustReport& report, const SignatureCheck& check, const TrustPolicy& policy,
                 const std::vector<std::string>* changed_paths, std::size_t parent_count) {
  if (std::find(policy.formats.begin(), policy.formats.end(), check.format) == policy.formats.end()) {
    report.passed = false;
    report.reason = std::string(SignatureFormatName(check.format)) + " signatures are not allowed by the policy";
    return;
  }
  std::vector<std::string> identities = check.identities;
  // A forge's web-flow key counts only where the policy names it.
  for (const WebFlowKey& w : policy.web_flow) {
    // The signing key's fingerprint, or (OpenPGP) its primary key's.
    const std::string wanted = NormalizeIdentity(w.fingerprint);
    bool named = false;
    for (const std::string& id : check.identities) named = named || NormalizeIdentity(id) == wanted;
    if (!named) continue;
    if (w.merges_only && parent_count < 2) {
      report.passed = false;
      report.reason = "signed by web-flow key \"" + w.name + "\", which the policy allows only on merge commits";
      return;
    }
    report.signer = "web-flow:" + w.name;
    // Merges: with every parent walked, the merged commits are checked on
    // their own, so the merge's path changes are vouched for by them.
    if (parent_count >= 2 && !policy.first_parent && policy.mode == PolicyMode::kEveryCommit) {
      report.passed = true;
      report.reason = "merge signed by web-flow key \"" + w.name + "\"";
      return;
    }
    identities.push_back(report.signer);
    break;
  }
  bool web_flow = report.signer.starts_with("web-flow:");
  if (!web_flow && !policy.signers.empty()) {
    bool allowed = false;
    for (const std::string& spec : policy.signers) {
      if (SignerMatches(policy, spec, identities)) allowed = true;
    }
    if (!allowed) {
      report.passed = false;
      report.reason = "signer " + (check.signer.empty() ? check.fingerprint : check.signer) +
                      " is not among the policy's signers (" + JoinSpecs(policy.signers) + ")";
      return;
    }
  }
  if (changed_paths && !policy.paths.empty()) {
    for (const std::string& path : *changed_paths) {
      const PathRule* rule = nullptr;
      for (const PathRule& r : policy.paths) {
        if (PathUnder(path, r.prefix) && (!rule || r.prefix.size() > rule->prefix.size())) rule = &r;
      }
      if (!rule) continue;
      bool allowed = false;
      for (const std::string& spec : rule->signers) {
        if (SignerMatches(policy, spec, identities)) allowed = true;
      }
      if (!allowed) {
        report.passed = false;
        report.reason = "path " + path + " may be changed only by " + JoinSpecs(rule->signers) + "; signed by " +
                        (report.signer.empty() ? report.fingerprint : report.signer);
        return;
      }
    }
  }
  report.passed = true;
}

}  // namespace

TrustReport EvaluateCommit(const CommitInput& commit, const TrustPolicy& policy, const SignatureVerifier& verifier,
                           ObjectHash hash) {
  TrustReport report;
  report.object_id = commit.id;
  report.object_type = "commit";
  SignatureCheck check = verifier.VerifyCommit(commit.raw, hash);
  report.format = check.format;
  report.signer = check.signer;
  report.fingerprint = check.fingerprint;
  report.reason = check.reason;
  if (!check.valid) return report;
  Result<CommitHeader> header = ParseCommitHeader(commit.raw);
  std::size_t parents = header.ok() ? header->parents.size() : 0;
  ApplyPolicy(report, check, policy, &commit.changed_paths, parents);
  return report;
}

TrustReport EvaluateTag(std::string_view id, std::string_view raw, const TrustPolicy& policy,
                        const SignatureVerifier& verifier) {
  TrustReport report;
  report.object_id.assign(id);
  report.object_type = "tag";
  SignatureCheck check = verifier.VerifyTag(raw);
  report.format = check.format;
  report.signer = check.signer;
  report.fingerprint = check.fingerprint;
  report.reason = check.reason;
  if (!check.valid) return report;
  ApplyPolicy(report, check, policy, nullptr, 0);
  return report;
}

Result<std::string> ReadTrustFile(const std::string& path, std::string_view what, std::size_t cap) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(ErrorCode::kNotFound, "cannot read " + std::string(what), Location{path, 0, 0, ""});
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  if (size < 0) return MakeError(ErrorCode::kNotFound, "cannot read " + std::string(what), Location{path, 0, 0, ""});
  if (static_cast<std::uint64_t>(size) > cap) {
    return MakeError(ErrorCode::kLimitExceeded,
                     std::string(what) + " is larger than " + std::to_string(cap) + " bytes; refused unread",
                     Location{path, 0, 0, ""});
  }
  in.seekg(0, std::ios::beg);
  std::string text(static_cast<std::size_t>(size), '\0');
  in.read(text.data(), size);
  text.resize(static_cast<std::size_t>(in.gcount()));
  return text;
}

Result<TrustMaterial> LoadTrustMaterial(const TrustFiles& files) {
  TrustMaterial material;
  if (!files.allowed_signers.empty()) {
    Result<AllowedSigners> a = AllowedSigners::Load(files.allowed_signers);
    if (!a.ok()) return std::move(a).error();
    material.ssh = std::move(a).value();
  }
  if (!files.openpgp_keyring.empty()) {
    Result<std::string> text = ReadTrustFile(files.openpgp_keyring, "OpenPGP keyring");
    if (!text.ok()) return std::move(text).error();
    Result<PgpKeyring> k = PgpKeyring::Parse(*text, files.openpgp_keyring);
    if (!k.ok()) return std::move(k).error();
    material.openpgp = std::move(k).value();
  }
  if (!files.x509_roots.empty()) {
    Result<std::string> text = ReadTrustFile(files.x509_roots, "X.509 roots");
    if (!text.ok()) return std::move(text).error();
    Result<X509Roots> x = X509Roots::Parse(*text, files.x509_roots);
    if (!x.ok()) return std::move(x).error();
    material.x509 = std::move(x).value();
  }
  return material;
}

Result<std::optional<TrustPolicy>> LoadTrustPolicy(const TrustFiles& files) {
  if (files.policy.empty()) return std::optional<TrustPolicy>();
  Result<std::string> text = ReadTrustFile(files.policy, "trust policy");
  if (!text.ok()) return std::move(text).error();
  Result<TrustPolicy> p = TrustPolicy::Parse(*text, files.policy);
  if (!p.ok()) return std::move(p).error();
  return std::optional<TrustPolicy>(std::move(p).value());
}

}  // namespace keelson::trust
