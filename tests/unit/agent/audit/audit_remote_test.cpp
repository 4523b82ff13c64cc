// The audit trail pushed to and read back from remotes that need
// credentials, as forges do: SSH (OpenSSH's sshd on a loopback port, host key
// checked against known_hosts) and HTTPS with basic auth (nginx and
// git-http-backend, a throwaway CA). Then the refusals: unknown host keys,
// wrong passwords, SSH without known_hosts.
//
// libgit2's SSH leaks are suppressed for this binary only
// (tests/unit/agent/source/libgit2_ssh_leak.cpp).
#include <gtest/gtest.h>

#include <chrono>
#include <sstream>
#include <string>
#include <vector>

#include "agent/audit/audit_repository.h"
#include "agent/audit/audit_writer.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tests/unit/agent/audit/audit_test_support.h"
#include "tests/unit/agent/source/servers.h"

namespace keelson::audit {
namespace {

using keelson::testing::RunProgram;
using keelson::testing::TempDir;
using testing_support::AgentKey;
using testing_support::MakeAgentKey;

AuditWriterOptions Options(const TempDir& dir, const AgentKey& key, const std::string& name) {
  AuditWriterOptions o;
  o.state_dir = dir.path() + "/" + name + "-state";
  o.repository = dir.path() + "/" + name + "-audit.git";
  o.environment = "prod";
  o.agent_name = name;
  o.signer = key.signer;
  o.initial_backoff = std::chrono::milliseconds(10);
  o.max_backoff = std::chrono::milliseconds(200);
  return o;
}

std::size_t RemoteRecords(const std::string& git_dir) {
  std::string out = RunProgram({"git", "--git-dir", git_dir, "log", "--format=%s", "keelson/audit/prod"}).out;
  std::size_t n = 0;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) n += line.empty() ? 0 : 1;
  return n;
}

// Writes two records, pushes them, and has a second agent with an empty
// state directory continue the trail from the remote: push and fetch both
// went through `access`.
void PushAndContinue(const TempDir& dir, const std::string& url, const source::RemoteAccess& access,
                     const std::string& served_git_dir) {
  AgentKey key = MakeAgentKey(dir, "agent");
  AuditWriterOptions o = Options(dir, key, "first");
  o.remote_url = url;
  o.remote_access = access;
  {
    auto w = AuditWriter::Open(o);
    ASSERT_TRUE(w.ok()) << w.error().ToString();
    ASSERT_TRUE((*w)->Append(AgentStopped{"one"}).ok());
    ASSERT_TRUE((*w)->Append(AgentStopped{"two"}).ok());
    Status pushed = (*w)->Push(std::chrono::steady_clock::now());
    ASSERT_TRUE(pushed.ok()) << pushed.error().ToString();
  }
  EXPECT_EQ(RemoteRecords(served_git_dir), 2u);
  AuditWriterOptions again = Options(dir, key, "second");
  again.remote_url = url;
  again.remote_access = access;
  auto w = AuditWriter::Open(again);
  ASSERT_TRUE(w.ok()) << w.error().ToString();
  EXPECT_EQ((*w)->last_seq(), 2u);
  ASSERT_TRUE((*w)->Append(AgentStopped{"three"}).ok());
  Status pushed = (*w)->Push(std::chrono::steady_clock::now());
  ASSERT_TRUE(pushed.ok()) << pushed.error().ToString();
  EXPECT_EQ(RemoteRecords(served_git_dir), 3u);
}

TEST(AuditRemote, PushesAndFetchesOverSshCheckingTheHostKey) {
  source::testing::SshGitServer server;
  ASSERT_TRUE(server.ok()) << server.why_not();
  TempDir dir;
  std::string served = dir.path() + "/served/audit.git";
  ASSERT_EQ(RunProgram({"git", "init", "-q", "--bare", served}).exit_code, 0);
  source::RemoteAccess access;
  access.ssh_private_key_file = server.private_key();
  access.known_hosts_file = server.known_hosts();
  PushAndContinue(dir, server.Url(served), access, served);
}

TEST(AuditRemote, RefusesSshHostsWhoseKeyIsNotKnown) {
  source::testing::SshGitServer server;
  ASSERT_TRUE(server.ok()) << server.why_not();
  TempDir dir;
  std::string served = dir.path() + "/served/audit.git";
  ASSERT_EQ(RunProgram({"git", "init", "-q", "--bare", served}).exit_code, 0);
  AgentKey key = MakeAgentKey(dir, "agent");
  AuditWriterOptions o = Options(dir, key, "agent");
  o.remote_url = server.Url(served);
  o.remote_access.ssh_private_key_file = server.private_key();
  o.remote_access.known_hosts_file = server.wrong_known_hosts();
  auto w = AuditWriter::Open(o);  // the startup fetch fails and is only logged
  ASSERT_TRUE(w.ok()) << w.error().ToString();
  ASSERT_TRUE((*w)->Append(AgentStopped{"one"}).ok());
  Status refused = (*w)->Push(std::chrono::steady_clock::now());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kAccessDenied) << refused.error().ToString();
  EXPECT_NE(refused.error().message.find("does not match known_hosts"), std::string::npos) << refused.error().message;
  EXPECT_EQ(RemoteRecords(served), 0u);
}

TEST(AuditRemote, PushesAndFetchesOverHttpsWithBasicAuthAndAPrivateCa) {
  TempDir dir;
  std::string base = dir.path() + "/served";
  ASSERT_EQ(RunProgram({"git", "init", "-q", "--bare", base + "/audit.git"}).exit_code, 0);
  source::testing::HttpsGitServer server(base);
  ASSERT_TRUE(server.ok()) << server.why_not();
  source::RemoteAccess access;
  access.https_user = "keelson";
  access.https_password = "s3cret";
  access.ca_file = server.ca_file();
  PushAndContinue(dir, server.Url("audit.git"), access, base + "/audit.git");

  // A wrong password, and a CA that did not sign the server's certificate.
  AgentKey key = MakeAgentKey(dir, "other");
  for (auto [password, ca, message] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"wrong", server.ca_file(), "authentication failed"}, {"s3cret", server.other_ca_file(), "not trusted"}}) {
    AuditWriterOptions o = Options(dir, key, "refused-" + password);
    o.remote_url = server.Url("audit.git");
    o.remote_access = access;
    o.remote_access.https_password = password;
    o.remote_access.ca_file = ca;
    auto w = AuditWriter::Open(o);
    ASSERT_TRUE(w.ok()) << w.error().ToString();
    ASSERT_TRUE((*w)->Append(AgentStopped{"x"}).ok());
    Status refused = (*w)->Push(std::chrono::steady_clock::now());
    ASSERT_FALSE(refused.ok()) << message;
    EXPECT_EQ(refused.error().code, ErrorCode::kAccessDenied) << refused.error().ToString();
    EXPECT_NE(refused.error().message.find(message), std::string::npos) << refused.error().message;
    EXPECT_EQ(refused.error().message.find("s3cret"), std::string::npos) << "a password in a message";
  }
  EXPECT_EQ(RemoteRecords(base + "/audit.git"), 3u);
}

TEST(AuditRemote, SshWithoutKnownHostsIsRefusedAtOpen) {
  TempDir dir;
  AgentKey key = MakeAgentKey(dir, "agent");
  for (std::string url : {"ssh://git@example.com/audit.git", "git@example.com:audit.git"}) {
    AuditWriterOptions o = Options(dir, key, "agent");
    o.remote_url = url;
    o.remote_access.ssh_private_key_file = dir.path() + "/agent";
    auto w = AuditWriter::Open(o);
    ASSERT_FALSE(w.ok()) << url;
    EXPECT_EQ(w.error().code, ErrorCode::kInvalidInput);
    EXPECT_NE(w.error().message.find("audit remote " + url + ": an SSH remote needs a known_hosts file"),
              std::string::npos)
        << w.error().message;
  }
}

}  // namespace
}  // namespace keelson::audit
