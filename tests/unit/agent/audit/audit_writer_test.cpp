// The audit writer end to end with real git: records become signed commits
// that stock git verifies, a crash at any point between journal and branch
// loses nothing, and pushes survive a remote outage without ever forcing.
#include "agent/audit/audit_writer.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <sstream>
#include <thread>

#include "agent/audit/trail.h"
#include "tests/testing/git_daemon.h"
#include "tests/testing/subprocess.h"
#include "tests/unit/agent/audit/audit_test_support.h"
#include "tests/unit/agent/source/servers.h"

// The outage test's failed pushes hit libgit2's leak on refused
// connections; see libgit2_connect_leak.cpp.

namespace keelson::audit {
namespace {

using keelson::testing::GitDaemon;
using keelson::testing::ProcessResult;
using keelson::testing::RunProgram;
using keelson::testing::TempDir;
using testing_support::AgentKey;
using testing_support::AppliedHealthy;
using testing_support::MakeAgentKey;
using testing_support::Revision;
using testing_support::WriteAllowedSigners;

// A clock that moves one second per reading, so commit times differ.
std::function<std::chrono::system_clock::time_point()> SteppingClock() {
  auto t = std::make_shared<std::chrono::system_clock::time_point>(std::chrono::sys_days(
      std::chrono::year_month_day(std::chrono::year(2026), std::chrono::November, std::chrono::day(27))));
  return [t] { return *t += std::chrono::seconds(1); };
}

AuditWriterOptions Options(const TempDir& dir, const AgentKey& key) {
  AuditWriterOptions o;
  o.state_dir = dir.path() + "/state";
  o.repository = dir.path() + "/audit.git";
  o.environment = "prod";
  o.agent_name = "agent-1";
  o.signer = key.signer;
  o.clock = SteppingClock();
  o.initial_backoff = std::chrono::milliseconds(10);
  o.max_backoff = std::chrono::milliseconds(200);
  return o;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::vector<std::string> Subjects(const std::string& git_dir, const std::string& branch) {
  ProcessResult r = RunProgram({"git", "--git-dir", git_dir, "log", "--reverse", "--format=%s", branch});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return Lines(r.out);
}

TEST(AuditWriter, ReconcileRecordsBecomeSignedCommitsThatGitVerifies) {
  TempDir dir;
  AgentKey key = MakeAgentKey(dir, "agent-prod");
  auto writer = AuditWriter::Open(Options(dir, key));
  ASSERT_TRUE(writer.ok()) << writer.error().ToString();
  AuditWriter& w = **writer;
  ASSERT_TRUE(w.Append(AgentStarted{"0.1.0", "node-1", key.signer->Fingerprint(), ""}).ok());
  ASSERT_TRUE(w.Append(ReconcileStarted{"r-1", "", "refs/heads/main", Revision(0x3f2a91c), "", "webhook"}).ok());
  Result<Record> finished = w.Append(AppliedHealthy(Revision(0x3f2a91c), 14));
  ASSERT_TRUE(finished.ok());
  ASSERT_TRUE(w.Append(DriftDetected{{{"apps/v1/Deployment/prod/web", {"spec.replicas"}}}}).ok());
  ASSERT_TRUE(w.Append(AgentStopped{"SIGTERM"}).ok());
  EXPECT_EQ(w.last_seq(), 5u);
  EXPECT_EQ(w.pending_commits(), 0u);

  std::string git_dir = dir.path() + "/audit.git";
  EXPECT_EQ(Subjects(git_dir, "keelson/audit/prod"),
            (std::vector<std::string>{
                "prod: agent started (keelson 0.1.0 on node-1)", "prod: reconciling 0000000 (webhook)",
                "prod: applied 0000000 by alice@example.com, 14 objects, healthy in 42s",
                "prod: drift in 1 object (apps/v1/Deployment/prod/web)", "prod: agent stopped (SIGTERM)"}));
  // The tree carries the record; the body carries the same text.
  ProcessResult file =
      RunProgram({"git", "--git-dir", git_dir, "show", "keelson/audit/prod:records/000000/00/000000000003.json"});
  EXPECT_EQ(file.out, PrettyJson(*finished));
  ProcessResult body = RunProgram({"git", "--git-dir", git_dir, "log", "-1", "--format=%b", "keelson/audit/prod~2"});
  EXPECT_EQ(body.out, PrettyJson(*finished) + "\n");

  std::string allowed = WriteAllowedSigners(dir, "keelson-prod", key);
  ProcessResult commits = RunProgram({"git", "--git-dir", git_dir, "rev-list", "keelson/audit/prod"});
  ASSERT_EQ(Lines(commits.out).size(), 5u);
  for (const std::string& commit : Lines(commits.out)) {
    ProcessResult v = RunProgram(
        {"git", "--git-dir", git_dir, "-c", "gpg.ssh.allowedSignersFile=" + allowed, "verify-commit", commit});
    EXPECT_EQ(v.exit_code, 0) << commit << ": " << v.err;
    EXPECT_NE(v.err.find("Good \"git\" signature for keelson-prod with ED25519 key"), std::string::npos) << v.err;
  }

  Result<AuditRepository> repo = AuditRepository::Open(git_dir);
  ASSERT_TRUE(repo.ok());
  Result<trust::AllowedSigners> signers = trust::AllowedSigners::Load(allowed);
  ASSERT_TRUE(signers.ok());
  Result<TrailReport> report = VerifyTrail(*repo, "keelson/audit/prod", *signers);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->intact()) << report->problem->ToString();
  EXPECT_EQ(report->entries.size(), 5u);
  EXPECT_EQ(report->entries[2].signer, "keelson-prod");
}

TEST(AuditWriter, ReopenContinuesTheSequence) {
  TempDir dir;
  AgentKey key = MakeAgentKey(dir, "agent");
  for (int round = 0; round < 3; ++round) {
    auto w = AuditWriter::Open(Options(dir, key));
    ASSERT_TRUE(w.ok()) << w.error().ToString();
    Result<Record> r = (*w)->Append(AgentStopped{"round " + std::to_string(round)});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->seq, static_cast<std::uint64_t>(round + 1));
  }
}

TEST(AuditWriter, JournalStaysShortOnceRecordsAreCommitted) {
  TempDir dir;
  AgentKey key = MakeAgentKey(dir, "agent");
  {
    auto w = AuditWriter::Open(Options(dir, key));
    ASSERT_TRUE(w.ok());
    for (int i = 0; i < 40; ++i) ASSERT_TRUE((*w)->Append(AgentStopped{"n" + std::to_string(i)}).ok());
  }
  std::string journal = keelson::testing::ReadFileOrDie(dir.path() + "/state/audit/prod/journal.jsonl");
  EXPECT_LE(std::count(journal.begin(), journal.end(), '\n'), 33);
  auto w = AuditWriter::Open(Options(dir, key));
  ASSERT_TRUE(w.ok()) << w.error().ToString();
  Result<Record> next = (*w)->Append(AgentStopped{"after"});
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->seq, 41u);
}

// The child process writes three records and is killed with SIGKILL at
// `point` of the third; the parent then reopens and checks the branch.
void CrashAt(const std::string& point) {
  TempDir dir;
  AgentKey key = MakeAgentKey(dir, "agent");
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    AuditWriterOptions o = Options(dir, key);
    int appends = 0;
    o.fault_hook = [&](std::string_view at) {
      if (at == "journal-appended") ++appends;
      if (appends == 3 && at == point) raise(SIGKILL);
    };
    auto w = AuditWriter::Open(o);
    if (!w.ok()) _exit(3);
    for (int i = 0; i < 3; ++i) {
      if (!(*w)->Append(AppliedHealthy(Revision(i + 1), i)).ok()) _exit(4);
    }
    _exit(5);  // the hook should have killed us
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << point << " status " << status;

  auto w = AuditWriter::Open(Options(dir, key));
  ASSERT_TRUE(w.ok()) << point << ": " << w.error().ToString();
  EXPECT_EQ((*w)->last_seq(), 3u) << point;
  EXPECT_EQ((*w)->pending_commits(), 0u) << point;
  ASSERT_TRUE((*w)->Append(AgentStopped{"after crash"}).ok());

  std::string allowed = WriteAllowedSigners(dir, "agent", key);
  Result<trust::AllowedSigners> signers = trust::AllowedSigners::Load(allowed);
  ASSERT_TRUE(signers.ok());
  Result<TrailReport> report = VerifyTrail((*w)->repository(), "keelson/audit/prod", *signers);
  ASSERT_TRUE(report.ok());
  ASSERT_TRUE(report->intact()) << point << ": " << report->problem->ToString();
  ASSERT_EQ(report->entries.size(), 4u) << point;
  for (int i = 0; i < 3; ++i) {
    const auto* f = std::get_if<ReconcileFinished>(&report->entries[static_cast<std::size_t>(i)].record.body);
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->revision, Revision(i + 1)) << point;
  }
}

TEST(AuditWriter, KillAfterJournalAppendLosesNothing) { CrashAt("journal-appended"); }
TEST(AuditWriter, KillAfterCommitObjectLosesNothing) { CrashAt("commit-written"); }
TEST(AuditWriter, KillAfterBranchUpdateDuplicatesNothing) { CrashAt("branch-updated"); }

TEST(AuditWriter, JournalAndBranchThatDisagreeNeedAPerson) {
  TempDir dir;
  AgentKey key = MakeAgentKey(dir, "agent");
  {
    auto w = AuditWriter::Open(Options(dir, key));
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append(AgentStopped{"one"}).ok());
  }
  // Someone replaces the local branch with a different history.
  AuditWriterOptions other = Options(dir, key);
  other.state_dir = dir.path() + "/other-state";
  other.repository = dir.path() + "/other.git";
  {
    auto w = AuditWriter::Open(other);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append(AgentStopped{"different"}).ok());
  }
  ProcessResult fetch = RunProgram({"git", "--git-dir", dir.path() + "/audit.git", "fetch", "-q",
                                    dir.path() + "/other.git", "+keelson/audit/prod:keelson/audit/prod"});
  ASSERT_EQ(fetch.exit_code, 0) << fetch.err;
  auto w = AuditWriter::Open(Options(dir, key));
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.error().message.find("different records at seq 1"), std::string::npos) << w.error().ToString();
}

TEST(AuditWriter, PushesToFileRemoteAndNeverForcesOverForeignCommits) {
  TempDir dir;
  AgentKey key = MakeAgentKey(dir, "agent");
  std::string remote = dir.path() + "/remote.git";
  ASSERT_EQ(RunProgram({"git", "init", "-q", "--bare", remote}).exit_code, 0);
  AuditWriterOptions o = Options(dir, key);
  o.remote_url = "file://" + remote;
  auto w = AuditWriter::Open(o);
  ASSERT_TRUE(w.ok()) << w.error().ToString();
  auto now = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE((*w)->Append(AgentStopped{"r" + std::to_string(i)}).ok());
  EXPECT_TRUE((*w)->PushDue(now));
  Status pushed = (*w)->Push(now);
  ASSERT_TRUE(pushed.ok()) << pushed.error().ToString();
  EXPECT_FALSE((*w)->PushDue(now));
  EXPECT_EQ(Subjects(remote, "keelson/audit/prod").size(), 3u);

  // Someone else commits to the remote audit branch.
  std::string clone = dir.path() + "/clone";
  ASSERT_EQ(RunProgram({"git", "clone", "-q", "-b", "keelson/audit/prod", remote, clone}).exit_code, 0);
  ASSERT_EQ(RunProgram({"git", "-C", clone, "-c", "user.name=M", "-c", "user.email=m@example.com", "commit", "-q",
                        "--allow-empty", "-m", "foreign"})
                .exit_code,
            0);
  ASSERT_EQ(RunProgram({"git", "-C", clone, "push", "-q", "origin", "keelson/audit/prod"}).exit_code, 0);
  std::string foreign_tip = Lines(RunProgram({"git", "--git-dir", remote, "rev-parse", "keelson/audit/prod"}).out)[0];

  ASSERT_TRUE((*w)->Append(AgentStopped{"r3"}).ok());
  Status rejected = (*w)->Push(now);
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.error().code, ErrorCode::kCheckFailed);
  EXPECT_NE(rejected.error().message.find("non-fast-forward"), std::string::npos) << rejected.error().message;
  EXPECT_NE(rejected.error().message.find("never force-pushes"), std::string::npos);
  EXPECT_EQ(Lines(RunProgram({"git", "--git-dir", remote, "rev-parse", "keelson/audit/prod"}).out)[0], foreign_tip);
  // Backoff: not due again right away.
  EXPECT_FALSE((*w)->PushDue(now));
  EXPECT_TRUE((*w)->PushDue(now + std::chrono::milliseconds(11)));
}

// SSH without known_hosts (audit_remote_test.cpp has SSH that works).
TEST(AuditWriter, RefusesRemotesItCannotReachSafely) {
  TempDir dir;
  AgentKey key = MakeAgentKey(dir, "agent");
  for (std::string url : {"ssh://git@example.com/audit.git", "git@example.com:audit.git", "ftp://x/y"}) {
    AuditWriterOptions o = Options(dir, key);
    o.remote_url = url;
    auto w = AuditWriter::Open(o);
    ASSERT_FALSE(w.ok()) << url;
    EXPECT_EQ(w.error().code, ErrorCode::kInvalidInput);
    EXPECT_NE(w.error().message.find(url), std::string::npos);
  }
}

// A remote that accepts the connection and then says nothing: fetching
// from it gives up at the timeout, and while that fetch is still stuck the
// next one is refused at once instead of adding another hung thread.
TEST(AuditWriter, FetchesFromASilentRemoteGiveUpAtTheTimeout) {
  TempDir dir;
  auto silent = std::make_unique<source::testing::GarbageServer>("", /*hold_open=*/true);
  ASSERT_GT(silent->port(), 0);
  std::string url = "http://127.0.0.1:" + std::to_string(silent->port()) + "/audit.git";
  Result<AuditRepository> repo = AuditRepository::OpenOrInitBare(dir.path() + "/peers.git");
  ASSERT_TRUE(repo.ok()) << repo.error().ToString();
  repo->set_fetch_timeout(std::chrono::milliseconds(500));

  auto start = std::chrono::steady_clock::now();
  Status first = repo->MirrorBranch(url, "keelson/audit/dev");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(first.error().message.find("no answer from " + url + " within 500 ms"), std::string::npos)
      << first.error().ToString();

  start = std::chrono::steady_clock::now();
  Status second = repo->FetchMissingBranch(url, "keelson/audit/dev");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(400));
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("still waiting for an answer"), std::string::npos) << second.error().ToString();

  // Once the remote goes away the stuck fetch ends, and fetching works
  // (here: fails fast, nobody listens) again.
  silent.reset();
  Status later = second;
  for (int i = 0; i < 100; ++i) {
    later = repo->MirrorBranch(url, "keelson/audit/dev");
    if (later.ok() || later.error().message.find("still waiting") == std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_FALSE(later.ok());
  EXPECT_NE(later.error().message.find("cannot fetch audit branch keelson/audit/dev"), std::string::npos)
      << later.error().ToString();
}

TEST(AuditWriter, FreshAgentContinuesTheTrailFromTheRemote) {
  TempDir dir;
  AgentKey key = MakeAgentKey(dir, "agent");
  std::string remote = dir.path() + "/remote.git";
  ASSERT_EQ(RunProgram({"git", "init", "-q", "--bare", remote}).exit_code, 0);
  AuditWriterOptions o = Options(dir, key);
  o.remote_url = "file://" + remote;
  {
    auto w = AuditWriter::Open(o);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append(AgentStopped{"one"}).ok());
    ASSERT_TRUE((*w)->Append(AgentStopped{"two"}).ok());
    ASSERT_TRUE((*w)->Push(std::chrono::steady_clock::now()).ok());
  }
  // A new host: empty state directory and local repository.
  o.state_dir = dir.path() + "/new-state";
  o.repository = dir.path() + "/new-audit.git";
  auto w = AuditWriter::Open(o);
  ASSERT_TRUE(w.ok()) << w.error().ToString();
  EXPECT_EQ((*w)->last_seq(), 2u);
  Result<Record> r = (*w)->Append(AgentStopped{"three"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->seq, 3u);
  ASSERT_TRUE((*w)->Push(std::chrono::steady_clock::now()).ok());
  EXPECT_EQ(Subjects(remote, "keelson/audit/prod").size(), 3u);
}

TEST(AuditWriter, HundredRecordsWrittenWhileGitDaemonIsDownArriveInOrder) {
  if (!keelson::testing::HaveProgram("git")) GTEST_SKIP() << "git not installed";
  TempDir dir;
  AgentKey key = MakeAgentKey(dir, "agent");
  std::string base = dir.path() + "/served";
  ASSERT_EQ(RunProgram({"git", "init", "-q", "--bare", base + "/audit.git"}).exit_code, 0);
  GitDaemon daemon(base);
  ASSERT_TRUE(daemon.Start(0));
  const int port = daemon.port();

  AuditWriterOptions o = Options(dir, key);
  o.remote_url = daemon.Url("audit.git");
  auto opened = AuditWriter::Open(o);
  ASSERT_TRUE(opened.ok()) << opened.error().ToString();
  AuditWriter& w = **opened;
  ASSERT_TRUE(w.Append(AgentStarted{"0.1.0", "node-1", "", ""}).ok());
  Status first = w.Push(std::chrono::steady_clock::now());
  ASSERT_TRUE(first.ok()) << first.error().ToString();

  daemon.Stop();
  int failed_pushes = 0;
  for (int i = 1; i <= 100; ++i) {
    ASSERT_TRUE(w.Append(AppliedHealthy(Revision(i), 1)).ok());
    auto now = std::chrono::steady_clock::now();
    if (w.PushDue(now)) {
      Status s = w.Push(now);
      ASSERT_FALSE(s.ok());
      EXPECT_EQ(s.error().code, ErrorCode::kUnavailable) << s.error().ToString();
      ++failed_pushes;
    }
  }
  EXPECT_GE(failed_pushes, 1);
  EXPECT_EQ(w.pending_commits(), 0u);  // committed locally all along

  ASSERT_TRUE(daemon.Start(port)) << "port " << port << " was taken meanwhile";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  Status last = MakeError(ErrorCode::kUnavailable, "never tried");
  while (std::chrono::steady_clock::now() < deadline) {
    auto now = std::chrono::steady_clock::now();
    if (w.PushDue(now)) {
      last = w.Push(now);
      if (last.ok()) break;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // until the backoff has passed
    }
  }
  ASSERT_TRUE(last.ok()) << last.error().ToString();

  std::vector<std::string> subjects = Subjects(base + "/audit.git", "keelson/audit/prod");
  ASSERT_EQ(subjects.size(), 101u);
  Result<AuditRepository> remote = AuditRepository::Open(base + "/audit.git");
  ASSERT_TRUE(remote.ok());
  Result<trust::AllowedSigners> signers = trust::AllowedSigners::Load(WriteAllowedSigners(dir, "agent", key));
  ASSERT_TRUE(signers.ok());
  Result<TrailReport> report = VerifyTrail(*remote, "keelson/audit/prod", *signers);
  ASSERT_TRUE(report.ok());
  ASSERT_TRUE(report->intact()) << report->problem->ToString();
  ASSERT_EQ(report->entries.size(), 101u);
  for (int i = 1; i <= 100; ++i) {
    const auto& f = std::get<ReconcileFinished>(report->entries[static_cast<std::size_t>(i)].record.body);
    EXPECT_EQ(f.revision, Revision(i));
  }
}

}  // namespace
}  // namespace keelson::audit
