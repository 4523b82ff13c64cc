#include <chrono>
#include <fstream>
#include <optional>
#include <ostream>
#include <sstream>

#include "agent/cli/cli.h"
#include "agent/source/git_repository.h"
#include "agent/trust/policy.h"

namespace keelson::cli {
namespace {

struct VerifyArgs {
  std::string repo;
  std::string rev;
  std::string range;
  std::string allowed_signers;
  std::string openpgp_keyring;
  std::string x509_roots;
  std::string policy;
};

int InputError(const Invocation& inv, const Error& e) {
  inv.err << "keelson: error: " << e.ToString() << "\n";
  return kExitUsage;
}

}  // namespace

int RunVerify(const Invocation& inv) {
  VerifyArgs args;
  const std::vector<std::pair<std::string_view, std::string*>> flags = {
      {"--repo", &args.repo},
      {"--rev", &args.rev},
      {"--range", &args.range},
      {"--allowed-signers", &args.allowed_signers},
      {"--openpgp-keyring", &args.openpgp_keyring},
      {"--x509-roots", &args.x509_roots},
      {"--policy", &args.policy},
  };
  for (std::size_t i = 0; i < inv.args.size(); ++i) {
    const std::string& a = inv.args[i];
    bool known = false;
    for (const auto& [name, target] : flags) {
      if (a == name) {
        if (i + 1 >= inv.args.size()) return UsageError(inv, std::string(name) + " needs a value");
        *target = inv.args[++i];
        known = true;
      } else if (a.starts_with(std::string(name) + "=")) {
        *target = a.substr(name.size() + 1);
        known = true;
      }
      if (known) break;
    }
    if (!known) return UsageError(inv, "unknown argument \"" + a + "\"; see `keelson help verify`");
  }
  if (args.repo.empty()) return UsageError(inv, "verify needs --repo PATH");
  if (args.rev.empty() == args.range.empty()) return UsageError(inv, "verify needs exactly one of --rev R or --range A..B");
  std::string range_from, range_to;
  if (!args.range.empty()) {
    std::size_t dots = args.range.find("..");
    if (dots == std::string::npos || args.range.find("...") != std::string::npos || dots == 0 ||
        dots + 2 >= args.range.size()) {
      return UsageError(inv, "--range must be A..B with both ends given");
    }
    range_from = args.range.substr(0, dots);
    range_to = args.range.substr(dots + 2);
  }
  if (args.allowed_signers.empty() && args.openpgp_keyring.empty() && args.x509_roots.empty()) {
    return UsageError(inv, "verify needs at least one of --allowed-signers, --openpgp-keyring, --x509-roots");
  }

  trust::TrustFiles files{args.allowed_signers, args.openpgp_keyring, args.x509_roots, args.policy};
  Result<trust::TrustMaterial> loaded = trust::LoadTrustMaterial(files);
  if (!loaded.ok()) return InputError(inv, loaded.error());
  trust::TrustMaterial material = std::move(loaded).value();
  Result<std::optional<trust::TrustPolicy>> loaded_policy = trust::LoadTrustPolicy(files);
  if (!loaded_policy.ok()) return InputError(inv, loaded_policy.error());
  trust::TrustPolicy policy = loaded_policy->value_or(trust::TrustPolicy());

  Result<source::GitRepository> repo = source::GitRepository::Open(args.repo);
  if (!repo.ok()) return InputError(inv, repo.error());
  trust::SignatureVerifier verifier(material, [] {
    return static_cast<std::int64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  });

  std::vector<trust::TrustReport> reports;
  // The revision the range ends at (or the single revision): when it is an
  // annotated tag its own signature is checked too.
  const std::string& head_spec = args.rev.empty() ? range_to : args.rev;
  Result<std::string> head_id = repo->ResolveRevision(head_spec);
  if (!head_id.ok()) return InputError(inv, head_id.error());
  Result<source::RawObject> head_object = repo->ReadRawObject(*head_id);
  if (!head_object.ok()) return InputError(inv, head_object.error());
  if (head_object->kind == source::ObjectKind::kTag) {
    reports.push_back(trust::EvaluateTag(*head_id, head_object->data, policy, verifier));
  } else if (policy.signed_tags) {
    trust::TrustReport missing;
    missing.object_id = *head_id;
    missing.object_type = "tag";
    missing.reason = head_spec + " is not an annotated tag, and the policy requires a signed tag";
    reports.push_back(std::move(missing));
  }

  std::vector<std::string> commits;
  if (args.rev.empty() && policy.mode == trust::PolicyMode::kEveryCommit) {
    Result<std::vector<source::CommitInfo>> listed =
        repo->ListCommits(range_from, range_to,
                          policy.first_parent ? source::Ancestry::kFirstParent : source::Ancestry::kAllParents);
    if (!listed.ok()) return InputError(inv, listed.error());
    for (const source::CommitInfo& c : *listed) commits.push_back(c.id);
  } else {
    Result<std::string> commit = repo->ResolveRevision(head_spec + "^{commit}");
    if (!commit.ok()) return InputError(inv, commit.error());
    commits.push_back(*commit);
  }

  for (const std::string& id : commits) {
    Result<source::RawObject> raw = repo->ReadRawObject(id);
    if (!raw.ok()) return InputError(inv, raw.error());
    trust::CommitInput input;
    input.id = id;
    input.raw = std::move(raw->data);
    if (policy.NeedsChangedPaths()) {
      Result<std::vector<std::string>> paths = repo->ChangedPaths(id);
      if (!paths.ok()) return InputError(inv, paths.error());
      input.changed_paths = std::move(paths).value();
    }
    reports.push_back(trust::EvaluateCommit(input, policy, verifier));
  }

  bool all_passed = true;
  for (const trust::TrustReport& r : reports) {
    inv.out << r.ToLine() << "\n";
    all_passed = all_passed && r.passed;
  }
  if (commits.empty()) inv.err << "keelson: the range " << args.range << " holds no commits\n";
  return all_passed ? kExitOk : kExitCheckFailed;
}

}  // namespace keelson::cli
