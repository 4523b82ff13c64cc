#include <fstream>
#include <ostream>
#include <sstream>

#include "agent/cli/cli.h"
#include "agent/source/mirror.h"

namespace keelson::cli {

int RunFetch(const Invocation& inv) {
  source::SourceSpec spec;
  spec.name = "source";
  std::string state_dir;
  int tracks = 0;
  for (std::size_t i = 0; i < inv.args.size(); ++i) {
    const std::string& flag = inv.args[i];
    if (i + 1 >= inv.args.size()) return UsageError(inv, flag + " needs a value; see `keelson help fetch`");
    const std::string& value = inv.args[++i];
    if (flag == "--url") {
      spec.url = value;
    } else if (flag == "--state-dir") {
      state_dir = value;
    } else if (flag == "--name") {
      spec.name = value;
    } else if (flag == "--branch" || flag == "--tag" || flag == "--semver") {
      ++tracks;
      spec.track.kind = flag == "--branch" ? source::Tracking::Kind::kBranch
                        : flag == "--tag"  ? source::Tracking::Kind::kTag
                                           : source::Tracking::Kind::kSemver;
      spec.track.value = value;
    } else if (flag == "--ssh-key") {
      spec.access.ssh_private_key_file = value;
    } else if (flag == "--known-hosts") {
      spec.access.known_hosts_file = value;
    } else if (flag == "--https-user") {
      spec.access.https_user = value;
    } else if (flag == "--https-password-file") {
      std::ifstream in(value, std::ios::binary);
      if (!in) return UsageError(inv, "cannot read " + value);
      std::ostringstream text;
      text << in.rdbuf();
      spec.access.https_password = text.str();
      while (!spec.access.https_password.empty() &&
             (spec.access.https_password.back() == '\n' || spec.access.https_password.back() == '\r')) {
        spec.access.https_password.pop_back();
      }
    } else if (flag == "--ca-file") {
      spec.access.ca_file = value;
    } else if (flag == "--timeout" || flag == "--attempts") {
      int n = 0;
      std::istringstream in(value);
      if (!(in >> n) || !in.eof() || n < 1) return UsageError(inv, flag + " must be a positive whole number");
      if (flag == "--timeout") spec.timeout = std::chrono::seconds(n);
      else spec.max_attempts = n;
    } else {
      return UsageError(inv, "unknown flag " + flag + "; see `keelson help fetch`");
    }
  }
  if (spec.url.empty() || state_dir.empty()) return UsageError(inv, "fetch needs --url and --state-dir");
  if (tracks > 1) return UsageError(inv, "give at most one of --branch, --tag and --semver");
  if (tracks == 0) spec.track = {source::Tracking::Kind::kBranch, "main"};
  if (Status valid = source::ValidateSourceSpec(spec); !valid.ok()) return UsageError(inv, valid.error().ToString());

  source::Mirror mirror(spec, state_dir);
  Result<source::SyncResult> synced = mirror.Sync();
  if (!synced.ok()) {
    inv.err << "keelson: error: " << synced.error().ToString() << "\n";
    return synced.error().code == ErrorCode::kInvalidInput ? kExitUsage : kExitCheckFailed;
  }
  for (const source::RefChange& change : synced->changes) {
    inv.out << change.ref << " " << synced->revision << " " << source::RefChangeKindName(change.kind)
            << " objects=" << synced->stats.received_objects << " bytes=" << synced->stats.received_bytes << "\n";
  }
  return kExitOk;
}

}  // namespace keelson::cli
