// Fetches against real servers on loopback ports: file:// and https://
// (nginx + fcgiwrap + git-http-backend with a throwaway CA). git:// (git
// daemon) is in mirror_test, ssh:// in ssh_transport_test.
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

class TransportTest : public testing::TransportFixture {};

TEST_F(TransportTest, LibraryIsBuiltWithHttpsAndSsh) {
  GitRepository::Features f = GitRepository::LibraryFeatures();
  EXPECT_TRUE(f.https);
  EXPECT_TRUE(f.ssh);
}

TEST_F(TransportTest, FetchesOverFileUrls) {
  Mirror mirror(Spec("file://" + upstream_, "file"), dir_.path() + "/state", clock_);
  Result<SyncResult> synced = mirror.Sync();
  ASSERT_TRUE(synced.ok()) << synced.error().ToString();
  EXPECT_EQ(synced->revision, head_);
}

TEST_F(TransportTest, FetchesOverHttpsWithAPrivateCaAndBasicAuth) {
  testing::HttpsGitServer server(repos_);
  ASSERT_TRUE(server.ok()) << server.why_not();
  SourceSpec spec = Spec(server.Url("app.git"), "https");
  spec.access.https_user = "keelson";
  spec.access.https_password = "s3cret";
  spec.access.ca_file = server.ca_file();
  Mirror mirror(spec, dir_.path() + "/state", clock_);
  Result<SyncResult> synced = mirror.Sync();
  ASSERT_TRUE(synced.ok()) << synced.error().ToString() << "\n" << server.log();
  EXPECT_EQ(synced->revision, head_);
  std::string second = Push();
  synced = mirror.Sync();
  ASSERT_TRUE(synced.ok()) << synced.error().ToString();
  EXPECT_EQ(synced->revision, second);
  EXPECT_EQ(synced->changes[0].kind, RefChangeKind::kFastForward);
  EXPECT_EQ(synced->stats.received_objects, 3u);
}

TEST_F(TransportTest, RefusesHttpsServersItCannotTrust) {
  testing::HttpsGitServer server(repos_);
  ASSERT_TRUE(server.ok()) << server.why_not();
  struct Case {
    std::string name, ca_file, password;
    ErrorCode code;
    std::string message;
  };
  std::vector<Case> cases = {
      {"system-store", "", "s3cret", ErrorCode::kAccessDenied, "not trusted by the system store"},
      {"wrong-ca", server.other_ca_file(), "s3cret", ErrorCode::kAccessDenied, "not trusted by"},
      {"wrong-password", server.ca_file(), "wrong", ErrorCode::kAccessDenied, "authentication failed"},
  };
  for (const Case& c : cases) {
    SourceSpec spec = Spec(server.Url("app.git"), c.name);
    spec.access.https_user = "keelson";
    spec.access.https_password = c.password;
    spec.access.ca_file = c.ca_file;
    spec.max_attempts = 3;
    Mirror mirror(spec, dir_.path() + "/state", clock_);
    Result<SyncResult> refused = mirror.Sync();
    ASSERT_FALSE(refused.ok()) << c.name;
    EXPECT_EQ(refused.error().code, c.code) << c.name << ": " << refused.error().ToString();
    EXPECT_NE(refused.error().message.find(c.message), std::string::npos) << c.name << ": " << refused.error().message;
    EXPECT_EQ(refused.error().message.find("s3cret"), std::string::npos);
    EXPECT_FALSE(mirror.Current().ok()) << c.name;  // nothing was mirrored
  }
  EXPECT_TRUE(clock_.sleeps().empty());  // trust and auth failures are not retried
}

}  // namespace
}  // namespace keelson::source
