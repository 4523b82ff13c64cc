#include "agent/source/mirror.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "tests/testing/git_daemon.h"
#include "tests/testing/loopback.h"
#include "tests/testing/temp_dir.h"
#include "tests/unit/agent/source/fake_clock.h"
#include "tests/unit/agent/source/git_fixture.h"
#include "tests/unit/agent/source/servers.h"

namespace keelson::source {
namespace {

using testing::CommitFile;
using testing::Git;

class MirrorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    upstream_ = dir_.path() + "/repos/app.git";
    std::filesystem::create_directories(upstream_);
    work_ = dir_.path() + "/work";
    std::filesystem::create_directories(work_);
    testing::InitRepo(work_);
    first_ = CommitFile(work_, "deploy.yaml", "replicas: 1\n", "first");
    Git(dir_.path(), {"init", "-q", "--bare", upstream_});
    Git(work_, {"remote", "add", "origin", upstream_});
    Git(work_, {"push", "-q", "origin", "main"});
    state_ = dir_.path() + "/state";
  }

  std::string Push(const std::string& file, const std::string& contents) {
    std::string id = CommitFile(work_, file, contents, "change " + file);
    Git(work_, {"push", "-q", "-f", "origin", "HEAD:main"});
    return id;
  }

  SourceSpec Spec(const std::string& url, Tracking track = {Tracking::Kind::kBranch, "main"}) {
    SourceSpec spec;
    spec.name = "app";
    spec.url = url;
    spec.track = std::move(track);
    spec.timeout = std::chrono::seconds(30);
    return spec;
  }

  keelson::testing::TempDir dir_;
  std::string upstream_, work_, state_, first_;
  FakeClock clock_;
};

TEST_F(MirrorTest, ClonesOnceThenFetchesOnlyTheTrackedRefIncrementally) {
  Git(work_, {"push", "-q", "origin", "main:other"});
  Mirror mirror(Spec("file://" + upstream_), state_, clock_);
  Result<SyncResult> first = mirror.Sync();
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  EXPECT_EQ(first->ref, "refs/heads/main");
  EXPECT_EQ(first->revision, first_);
  ASSERT_EQ(first->changes.size(), 1u);
  EXPECT_EQ(first->changes[0].kind, RefChangeKind::kCreated);
  EXPECT_GT(first->stats.received_objects, 0u);
  EXPECT_EQ(Git(mirror.path(), {"rev-parse", "--is-bare-repository"}), "true");
  EXPECT_EQ(Git(mirror.path(), {"for-each-ref", "--format=%(refname)"}), "refs/heads/main");

  Result<SyncResult> again = mirror.Sync();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->changes[0].kind, RefChangeKind::kUnchanged);
  EXPECT_EQ(again->stats.received_objects, 0u);

  std::string second = Push("deploy.yaml", "replicas: 2\n");
  Result<SyncResult> third = mirror.Sync();
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->revision, second);
  EXPECT_EQ(third->changes[0].kind, RefChangeKind::kFastForward);
  EXPECT_EQ(third->changes[0].old_id, first_);
  EXPECT_EQ(third->stats.received_objects, 3u);  // commit, tree, blob: only what is new
  EXPECT_EQ(mirror.Current()->revision, second);
  EXPECT_TRUE(clock_.sleeps().empty());
}

TEST_F(MirrorTest, DetectsForcePushesAndKeepsTheOverwrittenCommit) {
  std::string second = Push("a.txt", "a\n");
  Mirror mirror(Spec("file://" + upstream_), state_, clock_);
  ASSERT_TRUE(mirror.Sync().ok());
  Git(work_, {"reset", "-q", "--hard", first_});
  std::string rewritten = Push("b.txt", "b\n");
  Result<SyncResult> forced = mirror.Sync();
  ASSERT_TRUE(forced.ok()) << forced.error().ToString();
  EXPECT_EQ(forced->revision, rewritten);
  EXPECT_EQ(forced->changes[0].kind, RefChangeKind::kForced);
  EXPECT_EQ(forced->changes[0].old_id, second);
  EXPECT_EQ(Git(mirror.path(), {"rev-parse", "refs/keelson/overwritten/heads/main/" + second}), second);
}

TEST_F(MirrorTest, ReportsADeletedBranchAndKeepsTheLastGoodRevision) {
  Git(work_, {"push", "-q", "origin", "main:feature"});
  Mirror mirror(Spec("file://" + upstream_, {Tracking::Kind::kBranch, "feature"}), state_, clock_);
  ASSERT_TRUE(mirror.Sync().ok());
  Git(work_, {"push", "-q", "origin", ":feature"});
  Result<SyncResult> deleted = mirror.Sync();
  ASSERT_TRUE(deleted.ok()) << deleted.error().ToString();
  ASSERT_EQ(deleted->changes.size(), 1u);
  EXPECT_EQ(deleted->changes[0].kind, RefChangeKind::kDeleted);
  EXPECT_EQ(deleted->revision, first_);
  EXPECT_STREQ(RefChangeKindName(deleted->changes[0].kind), "deleted");

  Mirror never(Spec("file://" + upstream_, {Tracking::Kind::kBranch, "nope"}), dir_.path() + "/other", clock_);
  Result<SyncResult> missing = never.Sync();
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message.find("refs/heads/nope"), std::string::npos);
}

TEST_F(MirrorTest, TracksAnAnnotatedTagAndTheHighestTagInASemverRange) {
  Git(work_, {"tag", "-a", "-m", "one", "v1.0.0"});
  std::string v11 = Push("v.txt", "1.1\n");
  Git(work_, {"tag", "v1.1.0"});
  Push("v.txt", "2.0-rc\n");
  Git(work_, {"tag", "v1.2.0-rc.1"});
  Git(work_, {"tag", "v2.0.0"});
  Git(work_, {"tag", "not-a-version"});
  Git(work_, {"push", "-q", "origin", "--tags"});

  Mirror tag(Spec("file://" + upstream_, {Tracking::Kind::kTag, "v1.0.0"}), dir_.path() + "/tag", clock_);
  Result<SyncResult> tagged = tag.Sync();
  ASSERT_TRUE(tagged.ok()) << tagged.error().ToString();
  EXPECT_EQ(tagged->ref, "refs/tags/v1.0.0");
  EXPECT_EQ(tagged->revision, first_);
  EXPECT_EQ(tagged->object, Git(work_, {"rev-parse", "v1.0.0"}));
  EXPECT_NE(tagged->object, tagged->revision);

  Mirror range(Spec("file://" + upstream_, {Tracking::Kind::kSemver, "^1.0"}), state_, clock_);
  Result<SyncResult> chosen = range.Sync();
  ASSERT_TRUE(chosen.ok()) << chosen.error().ToString();
  EXPECT_EQ(chosen->ref, "refs/tags/v1.1.0");
  EXPECT_EQ(chosen->revision, v11);
  EXPECT_EQ(Git(range.path(), {"for-each-ref", "--format=%(refname)"}), "refs/tags/v1.1.0");

  std::string v13 = Push("v.txt", "1.3\n");
  Git(work_, {"tag", "v1.3.0"});
  Git(work_, {"push", "-q", "origin", "v1.3.0"});
  Result<SyncResult> newer = range.Sync();
  ASSERT_TRUE(newer.ok());
  EXPECT_EQ(newer->ref, "refs/tags/v1.3.0");
  EXPECT_EQ(newer->revision, v13);
  EXPECT_EQ(newer->changes[0].kind, RefChangeKind::kFastForward);
  EXPECT_EQ(range.Current()->ref, "refs/tags/v1.3.0");

  // The chosen tag disappears: the next best is taken and reported.
  Git(work_, {"push", "-q", "origin", ":refs/tags/v1.3.0"});
  Result<SyncResult> back = range.Sync();
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(back->ref, "refs/tags/v1.1.0");
  EXPECT_EQ(back->changes[0].kind, RefChangeKind::kForced);
  EXPECT_EQ(range.Current()->ref, "refs/tags/v1.1.0");
}

TEST_F(MirrorTest, AnUnreachableRemoteLeavesTheMirrorUntouchedAfterRetriesWithBackoff) {
  Mirror good(Spec("file://" + upstream_), state_, clock_);
  ASSERT_TRUE(good.Sync().ok());
  SourceSpec down = Spec("git://127.0.0.1:" + std::to_string(keelson::testing::FreeLoopbackPort()) + "/app.git");
  down.max_attempts = 4;
  down.initial_backoff = std::chrono::seconds(1);
  down.max_backoff = std::chrono::seconds(3);
  Mirror mirror(down, state_, clock_);
  Result<SyncResult> failed = mirror.Sync();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(failed.error().message.find("after 4 attempts"), std::string::npos) << failed.error().message;
  EXPECT_EQ(clock_.sleeps(), (std::vector<std::chrono::milliseconds>{std::chrono::seconds(1), std::chrono::seconds(2),
                                                                     std::chrono::seconds(3)}));
  EXPECT_EQ(mirror.Current()->revision, first_);
}

TEST_F(MirrorTest, GarbageFromTheRemoteLeavesTheMirrorUntouched) {
  Mirror good(Spec("file://" + upstream_), state_, clock_);
  ASSERT_TRUE(good.Sync().ok());
  Push("x.txt", "new\n");
  for (std::string scheme : {"git", "http"}) {
    testing::GarbageServer garbage(
        scheme == "git" ? std::string("0033this is not the git protocol at all, sorry......\n")
                        : std::string("HTTP/1.1 200 OK\r\nContent-Type: application/x-git-upload-pack-advertisement\r\n"
                                      "Content-Length: 20\r\nConnection: close\r\n\r\n001e# service=garbage"));
    SourceSpec spec = Spec(scheme + "://127.0.0.1:" + std::to_string(garbage.port()) + "/app.git");
    spec.max_attempts = 2;
    Mirror mirror(spec, state_, clock_);
    Result<SyncResult> failed = mirror.Sync();
    ASSERT_FALSE(failed.ok()) << scheme;
    EXPECT_EQ(failed.error().code, ErrorCode::kUnavailable) << failed.error().ToString();
    EXPECT_EQ(garbage.connections(), 2) << scheme;
    EXPECT_EQ(mirror.Current()->revision, first_);
    EXPECT_EQ(Git(mirror.path(), {"for-each-ref", "--format=%(refname)"}), "refs/heads/main");
  }
}

TEST_F(MirrorTest, ARemoteThatNeverAnswersIsAbandonedAtTheTimeout) {
  Mirror good(Spec("file://" + upstream_), state_, clock_);
  ASSERT_TRUE(good.Sync().ok());
  testing::GarbageServer silent("", /*hold_open=*/true);
  SourceSpec spec = Spec("git://127.0.0.1:" + std::to_string(silent.port()) + "/app.git");
  spec.timeout = std::chrono::seconds(1);
  spec.max_attempts = 2;
  Mirror mirror(spec, state_, clock_);
  auto start = std::chrono::steady_clock::now();
  Result<SyncResult> failed = mirror.Sync();
  ASSERT_FALSE(failed.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(failed.error().code, ErrorCode::kUnavailable);
  // The first attempt timed out; the second found it still stuck and did
  // not pile another thread on top.
  EXPECT_NE(failed.error().message.find("still waiting for an answer (after 2 attempts)"), std::string::npos)
      << failed.error().message;
  EXPECT_EQ(silent.connections(), 1);
  EXPECT_EQ(mirror.Current()->revision, first_);
}

TEST_F(MirrorTest, AStopSignalEndsAFetchThatGetsNoAnswer) {
  testing::GarbageServer silent("", /*hold_open=*/true);
  SourceSpec spec = Spec("git://127.0.0.1:" + std::to_string(silent.port()) + "/app.git");
  spec.timeout = std::chrono::hours(1);
  Mirror mirror(spec, state_, clock_);
  StopSignal stop;
  std::thread stopper([&] {
    keelson::testing::WaitFor([&] { return silent.connections() > 0; }, std::chrono::seconds(10));
    stop.Stop();
  });
  auto start = std::chrono::steady_clock::now();
  Result<SyncResult> stopped = mirror.Sync(&stop);
  stopper.join();
  ASSERT_FALSE(stopped.ok());
  EXPECT_NE(stopped.error().message.find("stopped"), std::string::npos) << stopped.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST_F(MirrorTest, FetchesOverTheGitProtocolFromGitDaemon) {
  keelson::testing::GitDaemon daemon(dir_.path() + "/repos");
  ASSERT_TRUE(daemon.Start());
  Mirror mirror(Spec(daemon.Url("app.git")), state_, clock_);
  Result<SyncResult> synced = mirror.Sync();
  ASSERT_TRUE(synced.ok()) << synced.error().ToString();
  EXPECT_EQ(synced->revision, first_);
  std::string second = Push("d.txt", "daemon\n");
  synced = mirror.Sync();
  ASSERT_TRUE(synced.ok()) << synced.error().ToString();
  EXPECT_EQ(synced->revision, second);
  EXPECT_EQ(synced->changes[0].kind, RefChangeKind::kFastForward);
}

TEST_F(MirrorTest, AStopSignalEndsTheBackoffWait) {
  SourceSpec down = Spec("git://127.0.0.1:" + std::to_string(keelson::testing::FreeLoopbackPort()) + "/app.git");
  down.max_attempts = 5;
  down.initial_backoff = std::chrono::hours(1);
  StopSignal stop;
  stop.Stop();
  Mirror mirror(down, state_);  // the real clock: a stopped signal must not wait an hour
  auto start = std::chrono::steady_clock::now();
  Result<SyncResult> failed = mirror.Sync(&stop);
  ASSERT_FALSE(failed.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(SourceSpec, ValidatesBeforeTouchingTheNetwork) {
  SourceSpec spec;
  spec.name = "ok-name";
  spec.url = "https://example.invalid/repo.git";
  spec.track = {Tracking::Kind::kBranch, "main"};
  EXPECT_TRUE(ValidateSourceSpec(spec).ok());
  SourceSpec bad = spec;
  bad.name = "../escape";
  EXPECT_EQ(ValidateSourceSpec(bad).error().where.field, "name");
  bad = spec;
  bad.url = "ftp://x/y";
  EXPECT_EQ(ValidateSourceSpec(bad).error().where.field, "url");
  bad = spec;
  bad.url = "ssh://git@example.invalid/repo.git";
  bad.access.ssh_private_key_file = "/key";
  EXPECT_EQ(ValidateSourceSpec(bad).error().where.field, "known_hosts_file");
  bad = spec;
  bad.track = {Tracking::Kind::kBranch, "main..x"};
  EXPECT_EQ(ValidateSourceSpec(bad).error().where.field, "track");
  bad.track = {Tracking::Kind::kSemver, ">=1.0 <<2"};
  EXPECT_EQ(ValidateSourceSpec(bad).error().where.field, "track");
}

TEST(SourceUrls, RedactsSecretsAndReadsSshEndpoints) {
  EXPECT_EQ(RedactUrl("https://user:tok3n@example.com/r.git"), "https://***@example.com/r.git");
  EXPECT_EQ(RedactUrl("https://example.com/r.git"), "https://example.com/r.git");
  EXPECT_EQ(RedactUrl("ssh://git@example.com/r.git"), "ssh://git@example.com/r.git");
  std::optional<SshEndpoint> ep = ParseSshUrl("ssh://git@example.com:2222/r.git");
  ASSERT_TRUE(ep);
  EXPECT_EQ(ep->user, "git");
  EXPECT_EQ(ep->host, "example.com");
  EXPECT_EQ(ep->port, 2222);
  ep = ParseSshUrl("git@github.com:org/repo.git");
  ASSERT_TRUE(ep);
  EXPECT_EQ(ep->host, "github.com");
  EXPECT_EQ(ep->port, 22);
  ep = ParseSshUrl("ssh://[::1]:2200/r.git");
  ASSERT_TRUE(ep);
  EXPECT_EQ(ep->host, "::1");
  EXPECT_EQ(ep->port, 2200);
  EXPECT_FALSE(ParseSshUrl("ssh://host:99999/r.git"));
  EXPECT_FALSE(ParseSshUrl("https://host/r.git"));
}

}  // namespace
}  // namespace keelson::source
