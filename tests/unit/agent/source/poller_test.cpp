#include "agent/source/poller.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/testing/loopback.h"
#include "tests/testing/temp_dir.h"
#include "tests/unit/agent/source/fake_clock.h"
#include "tests/unit/agent/source/git_fixture.h"

namespace keelson::source {
namespace {

using testing::CommitFile;
using testing::Git;
using namespace std::chrono_literals;

class PollerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    upstream_ = dir_.path() + "/app.git";
    work_ = dir_.path() + "/work";
    std::filesystem::create_directories(work_);
    testing::InitRepo(work_);
    first_ = CommitFile(work_, "a.txt", "1\n", "first");
    Git(dir_.path(), {"init", "-q", "--bare", upstream_});
    Git(work_, {"push", "-q", upstream_, "main"});
  }

  std::shared_ptr<Mirror> MakeMirror(const std::string& name, Clock& clock) {
    SourceSpec spec;
    spec.name = name;
    spec.url = "file://" + upstream_;
    spec.track = {Tracking::Kind::kBranch, "main"};
    return std::make_shared<Mirror>(spec, dir_.path() + "/state", clock);
  }

  std::string Push(const std::string& contents) {
    std::string id = CommitFile(work_, "a.txt", contents, "change");
    Git(work_, {"push", "-q", upstream_, "main"});
    return id;
  }

  std::string LastRevision() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_revision_;
  }

  Poller::Listener Record() {
    return [this](const std::string&, const Result<SyncResult>& r) {
      std::lock_guard<std::mutex> lock(mu_);
      if (r.ok()) last_revision_ = r->revision;
    };
  }

  keelson::testing::TempDir dir_;
  std::string upstream_, work_, first_;
  std::mutex mu_;
  std::string last_revision_;
};

TEST_F(PollerTest, SyncsAtStartThenEveryIntervalAndAtOnceWhenTriggered) {
  ManualClock clock;
  Poller poller(Record(), clock, 42);
  ASSERT_TRUE(poller.Add(MakeMirror("app", clock), 60s, 0.0).ok());
  poller.Start();
  ASSERT_TRUE(keelson::testing::WaitFor([&] { return poller.stats("app").syncs == 1; }, 10s));
  EXPECT_EQ(LastRevision(), first_);

  std::string second = Push("2\n");
  clock.Advance(59s);
  EXPECT_EQ(poller.stats("app").syncs, 1u);
  clock.Advance(1s);
  ASSERT_TRUE(keelson::testing::WaitFor([&] { return poller.stats("app").syncs == 2; }, 10s));
  EXPECT_EQ(LastRevision(), second);

  std::string third = Push("3\n");
  EXPECT_TRUE(poller.Trigger("app"));
  EXPECT_FALSE(poller.Trigger("nope"));
  ASSERT_TRUE(keelson::testing::WaitFor([&] { return LastRevision() == third; }, 10s));
  EXPECT_EQ(poller.stats("app").syncs, 3u);
  EXPECT_EQ(poller.stats("app").triggers, 1u);
  EXPECT_EQ(poller.stats("app").failures, 0u);
}

TEST_F(PollerTest, StopsPromptlyWhileWaitingOnALongInterval) {
  Poller poller(Record());  // the real clock
  ASSERT_TRUE(poller.Add(MakeMirror("app", SteadyClock::Instance()), std::chrono::hours(1)).ok());
  poller.Start();
  ASSERT_TRUE(keelson::testing::WaitFor([&] { return poller.stats("app").syncs == 1; }, 10s));
  auto start = std::chrono::steady_clock::now();
  poller.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_FALSE(poller.Trigger("app"));
}

TEST_F(PollerTest, SpreadsWaitsWithinTheJitterBounds) {
  Poller poller(nullptr, SteadyClock::Instance(), 7);
  std::chrono::milliseconds lo = 1h, hi = 0ms;
  for (int i = 0; i < 1000; ++i) {
    std::chrono::milliseconds w = poller.NextWait(100s, 0.2);
    lo = std::min(lo, w);
    hi = std::max(hi, w);
  }
  EXPECT_GE(lo, 80s);
  EXPECT_LE(hi, 120s);
  EXPECT_LT(lo, 85s);  // the spread is used, not just one value
  EXPECT_GT(hi, 115s);
  EXPECT_EQ(poller.NextWait(100s, 0.0), 100s);
}

TEST_F(PollerTest, RefusesBadSettings) {
  Poller poller(nullptr);
  EXPECT_EQ(poller.Add(MakeMirror("a", SteadyClock::Instance()), 10ms).error().where.field, "interval");
  EXPECT_EQ(poller.Add(MakeMirror("a", SteadyClock::Instance()), 10s, 0.9).error().where.field, "jitter");
  ASSERT_TRUE(poller.Add(MakeMirror("a", SteadyClock::Instance()), 10s).ok());
  EXPECT_EQ(poller.Add(MakeMirror("a", SteadyClock::Instance()), 10s).error().where.field, "name");
}

}  // namespace
}  // namespace keelson::source
