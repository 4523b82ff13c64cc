// The audit pusher against real remotes: it pushes every commit in order,
// retries a remote that is down until it is back, and a remote that accepts
// connections but never answers neither blocks the caller nor the stop.
#include "agent/audit/audit_pusher.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <thread>

#include "agent/audit/audit_writer.h"
#include "tests/testing/subprocess.h"
#include "tests/unit/agent/audit/audit_test_support.h"
#include "tests/unit/agent/source/servers.h"

// The failed pushes here hit libgit2's leak on refused connections; see
// libgit2_connect_leak.cpp.

namespace keelson::audit {
namespace {

using namespace std::chrono_literals;
using keelson::testing::RunProgram;
using keelson::testing::TempDir;
using testing_support::AppliedHealthy;
using testing_support::MakeAgentKey;
using testing_support::Revision;

class AuditPusherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    AuditWriterOptions o;
    o.state_dir = dir_.path() + "/state";
    o.repository = dir_.path() + "/audit.git";
    o.environment = "prod";
    o.agent_name = "agent-1";
    o.signer = MakeAgentKey(dir_, "agent").signer;
    Result<std::unique_ptr<AuditWriter>> w = AuditWriter::Open(o);
    ASSERT_TRUE(w.ok()) << w.error().ToString();
    writer_ = std::move(*w);
  }

  void Append(int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(writer_->Append(AppliedHealthy(Revision(++appended_), 1)).ok());
    }
  }

  std::string Tip(const std::string& git_dir) {
    keelson::testing::ProcessResult r =
        RunProgram({"git", "--git-dir", git_dir, "rev-parse", "--verify", "-q", "refs/heads/" + writer_->branch()}, "",
                   dir_.path(), 30);
    return r.exit_code == 0 ? r.out : "";
  }

  AuditPusherOptions Options(const std::string& url) {
    return AuditPusherOptions{dir_.path() + "/audit.git", url, writer_->branch(), 20ms, 200ms, {}};
  }

  static bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds limit) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      if (condition()) return true;
      std::this_thread::sleep_for(20ms);
    }
    return condition();
  }

  TempDir dir_;
  std::unique_ptr<AuditWriter> writer_;
  int appended_ = 0;
};

TEST_F(AuditPusherTest, PushesEveryCommitAndStopsWithNothingLeft) {
  std::string remote = dir_.path() + "/remote.git";
  ASSERT_EQ(RunProgram({"git", "init", "-q", "--bare", remote}, "", dir_.path(), 30).exit_code, 0);
  Append(3);
  AuditPusher pusher(Options("file://" + remote));
  pusher.Notify();
  ASSERT_TRUE(WaitFor([&] { return pusher.up_to_date(); }, 20s)) << pusher.last_status().error().ToString();
  EXPECT_EQ(Tip(remote), Tip(dir_.path() + "/audit.git"));
  Append(2);
  pusher.Notify();
  EXPECT_FALSE(pusher.up_to_date());
  EXPECT_TRUE(pusher.Stop(20s));  // the last commits go out before it ends
  EXPECT_EQ(Tip(remote), Tip(dir_.path() + "/audit.git"));
  EXPECT_FALSE(Tip(remote).empty());
}

TEST_F(AuditPusherTest, RetriesARemoteThatIsDownUntilItIsBack) {
  std::string remote = dir_.path() + "/later.git";
  Append(2);
  AuditPusher pusher(Options("file://" + remote));
  pusher.Notify();
  ASSERT_TRUE(WaitFor([&] { return pusher.consecutive_failures() >= 2; }, 20s));
  EXPECT_FALSE(pusher.up_to_date());
  ASSERT_EQ(RunProgram({"git", "init", "-q", "--bare", remote}, "", dir_.path(), 30).exit_code, 0);
  ASSERT_TRUE(WaitFor([&] { return pusher.up_to_date(); }, 20s)) << pusher.last_status().error().ToString();
  EXPECT_EQ(pusher.consecutive_failures(), 0);
  EXPECT_EQ(Tip(remote), Tip(dir_.path() + "/audit.git"));
}

// A server that accepts connections and never answers.
TEST_F(AuditPusherTest, SilentRemoteBlocksNeitherTheCallerNorTheStop) {
  auto silent = std::make_unique<source::testing::GarbageServer>("", /*hold_open=*/true);
  ASSERT_GT(silent->port(), 0);
  std::string url = "http://127.0.0.1:" + std::to_string(silent->port()) + "/audit.git";
  Append(1);
  auto pusher = std::make_unique<AuditPusher>(Options(url));
  auto before = std::chrono::steady_clock::now();
  pusher->Notify();
  Append(1);  // the writer keeps committing while the push hangs
  pusher->Notify();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 5s);
  std::this_thread::sleep_for(1s);
  EXPECT_FALSE(pusher->up_to_date());
  auto stopping = std::chrono::steady_clock::now();
  EXPECT_FALSE(pusher->Stop(300ms));
  EXPECT_LT(std::chrono::steady_clock::now() - stopping, 3s);
  pusher.reset();
  silent.reset();  // the abandoned push ends with the connection
}

}  // namespace
}  // namespace keelson::audit
