// Helpers for the audit tests: agent keys made by ssh-keygen and sample
// records (the git daemon is tests/testing/git_daemon.h).
#pragma once

#include <memory>
#include <string>

#include "agent/audit/record.h"
#include "agent/audit/ssh_signer.h"
#include "tests/testing/temp_dir.h"

namespace keelson::audit::testing_support {

struct AgentKey {
  std::string private_key_path;
  std::string public_line;  // "ssh-ed25519 AAAA... comment"
  std::shared_ptr<const SshSigner> signer;
};

// ssh-keygen -t ed25519 in `dir`; fails the test when it cannot.
AgentKey MakeAgentKey(const keelson::testing::TempDir& dir, const std::string& name);
// An allowed_signers file trusting `key` as `principal` for namespace git.
std::string WriteAllowedSigners(const keelson::testing::TempDir& dir, const std::string& principal,
                                const AgentKey& key);

// A full commit id made from a number, for sample records.
std::string Revision(int n);
// A reconcile.finished body: applied, healthy, `objects` objects.
ReconcileFinished AppliedHealthy(const std::string& revision, int objects);

}  // namespace keelson::audit::testing_support
