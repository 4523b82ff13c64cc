#include "tests/unit/agent/audit/audit_test_support.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "tests/testing/subprocess.h"

namespace keelson::audit::testing_support {

AgentKey MakeAgentKey(const keelson::testing::TempDir& dir, const std::string& name) {
  AgentKey key;
  key.private_key_path = dir.path() + "/" + name;
  keelson::testing::ProcessResult r = keelson::testing::RunProgram(
      {"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", key.private_key_path});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  Result<SshSigner> signer = SshSigner::FromPrivateKeyFile(key.private_key_path);
  EXPECT_TRUE(signer.ok()) << (signer.ok() ? "" : signer.error().ToString());
  if (signer.ok()) {
    key.public_line = signer->PublicKeyLine();
    key.signer = std::make_shared<const SshSigner>(std::move(*signer));
  }
  return key;
}

std::string WriteAllowedSigners(const keelson::testing::TempDir& dir, const std::string& principal,
                                const AgentKey& key) {
  return dir.Write("allowed_signers", principal + " namespaces=\"git\" " + key.public_line + "\n");
}

std::string Revision(int n) {
  char buf[41];
  std::snprintf(buf, sizeof buf, "%040x", n);
  return buf;
}

ReconcileFinished AppliedHealthy(const std::string& revision, int objects) {
  ReconcileFinished f;
  f.reconcile_id = "r-" + revision.substr(32);
  f.source = "https://git.example.com/platform/deploy.git";
  f.ref = "refs/heads/main";
  f.revision = revision;
  f.outcome = "applied";
  f.author = "alice@example.com";
  f.duration_ms = 42000;
  f.commits.push_back({revision, "alice@example.com", "SHA256:alicekey", "trusted", ""});
  f.renderer = {"plain", "0.1.0"};
  for (int i = 0; i < objects; ++i) {
    f.objects.push_back({"v1/ConfigMap/prod/cm-" + std::to_string(i), std::string(64, 'a'), false});
    f.plan.created.push_back("v1/ConfigMap/prod/cm-" + std::to_string(i));
  }
  f.waves.push_back({0, objects, 1200, "applied"});
  f.health = {"healthy", 42000, {}, ""};
  return f;
}

}  // namespace keelson::audit::testing_support
