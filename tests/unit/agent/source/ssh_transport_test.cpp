// Fetches over ssh:// against OpenSSH's sshd on a loopback port, checking
// the host key against known_hosts.
//
// libgit2's SSH leaks are suppressed for this binary only (see
// libgit2_ssh_leak.cpp).

#include <gtest/gtest.h>

#include <filesystem>

#include "agent/source/git_repository.h"
#include "agent/source/mirror.h"
#include "tests/testing/temp_dir.h"
#include "tests/unit/agent/source/fake_clock.h"
#include "tests/unit/agent/source/git_fixture.h"
#include "tests/unit/agent/source/servers.h"
#include "tests/unit/agent/source/transport_fixture.h"

namespace keelson::source {
namespace {

using testing::CommitFile;
using testing::Git;

class SshTransportTest : public testing::TransportFixture {};

TEST_F(SshTransportTest, FetchesOverSshCheckingTheHostKey) {
  testing::SshGitServer server;
  ASSERT_TRUE(server.ok()) << server.why_not();
  SourceSpec spec = Spec(server.Url(upstream_), "ssh");
  spec.access.ssh_private_key_file = server.private_key();
  spec.access.known_hosts_file = server.known_hosts();
  Mirror mirror(spec, dir_.path() + "/state", clock_);
  Result<SyncResult> synced = mirror.Sync();
  ASSERT_TRUE(synced.ok()) << synced.error().ToString() << "\n" << server.log();
  EXPECT_EQ(synced->revision, head_);
  std::string second = Push();
  synced = mirror.Sync();
  ASSERT_TRUE(synced.ok()) << synced.error().ToString();
  EXPECT_EQ(synced->revision, second);
}

TEST_F(SshTransportTest, RefusesSshHostsWhoseKeyIsUnknownOrDifferent) {
  testing::SshGitServer server;
  ASSERT_TRUE(server.ok()) << server.why_not();
  keelson::testing::TempDir extra;
  std::string empty_known_hosts = extra.Write("known_hosts", "# nobody\n");
  struct Case {
    std::string name, known_hosts;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{{"changed", server.wrong_known_hosts(), "does not match known_hosts"},
                                         {"unknown", empty_known_hosts, "is not in known_hosts"}}) {
    SourceSpec spec = Spec(server.Url(upstream_), c.name);
    spec.access.ssh_private_key_file = server.private_key();
    spec.access.known_hosts_file = c.known_hosts;
    spec.max_attempts = 3;
    Mirror mirror(spec, dir_.path() + "/state", clock_);
    Result<SyncResult> refused = mirror.Sync();
    ASSERT_FALSE(refused.ok()) << c.name;
    EXPECT_EQ(refused.error().code, ErrorCode::kAccessDenied) << refused.error().ToString();
    EXPECT_NE(refused.error().message.find(c.message), std::string::npos) << refused.error().message;
    EXPECT_FALSE(mirror.Current().ok());
  }
  EXPECT_TRUE(clock_.sleeps().empty());
}

}  // namespace
}  // namespace keelson::source
