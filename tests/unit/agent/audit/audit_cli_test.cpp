// `keelson audit log|show|verify` run as users run them, against a trail
// the writer produced and then one a person edited with plain git.
#include <gtest/gtest.h>

#include "agent/audit/audit_writer.h"
#include "tests/testing/subprocess.h"
#include "tests/unit/agent/audit/audit_test_support.h"

namespace keelson::audit {
namespace {

using keelson::testing::ProcessResult;
using keelson::testing::RunProgram;
using keelson::testing::TempDir;
using testing_support::AgentKey;
using testing_support::AppliedHealthy;
using testing_support::MakeAgentKey;
using testing_support::Revision;
using testing_support::WriteAllowedSigners;

ProcessResult Keelson(std::vector<std::string> args) {
  args.insert(args.begin(), KEELSON_BINARY);
  return RunProgram(args);
}

class AuditCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = MakeAgentKey(dir_, "agent");
    repo_ = dir_.path() + "/audit.git";
    allowed_ = WriteAllowedSigners(dir_, "keelson-agents", key_);
    for (std::string env : {"staging", "prod"}) {
      AuditWriterOptions o;
      o.state_dir = dir_.path() + "/state";
      o.repository = repo_;
      o.environment = env;
      o.signer = key_.signer;
      auto t = std::make_shared<int>(env == "prod" ? 100 : 0);
      o.clock = [t] { return std::chrono::system_clock::time_point(std::chrono::seconds(1795000000 + (*t)++ * 60)); };
      auto w = AuditWriter::Open(o);
      ASSERT_TRUE(w.ok()) << w.error().ToString();
      ASSERT_TRUE((*w)->Append(AgentStarted{"0.1.0", "node-1", "", ""}).ok());
      ASSERT_TRUE((*w)->Append(AppliedHealthy(Revision(0x3f2a91c), 14)).ok());
      ASSERT_TRUE((*w)->Append(AgentStopped{"SIGTERM"}).ok());
    }
  }

  TempDir dir_;
  AgentKey key_;
  std::string repo_;
  std::string allowed_;
};

TEST_F(AuditCliTest, LogPrintsATableOfEveryEnvironment) {
  ProcessResult r = Keelson({"audit", "log", "--repo", repo_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines;
  for (std::size_t pos = 0; pos < r.out.size();) {
    std::size_t nl = r.out.find('\n', pos);
    lines.push_back(r.out.substr(pos, nl - pos));
    pos = nl + 1;
  }
  ASSERT_EQ(lines.size(), 7u) << r.out;
  EXPECT_TRUE(lines[0].starts_with("TIME")) << lines[0];
  EXPECT_NE(lines[1].find("staging"), std::string::npos);
  EXPECT_NE(lines[2].find("applied 0000000 by alice@example.com, 14 objects, healthy in 42s"), std::string::npos)
      << lines[2];
  EXPECT_NE(lines[4].find("prod"), std::string::npos);

  ProcessResult prod = Keelson({"audit", "log", "--repo", repo_, "--env", "prod"});
  EXPECT_EQ(prod.exit_code, 0);
  EXPECT_EQ(prod.out.find("staging"), std::string::npos);
  // Staging's records are at 1795000000 + 0..2 minutes, prod's 100 minutes later.
  ProcessResult since = Keelson({"audit", "log", "--repo", repo_, "--since", "2026-11-18T12:00:00Z"});
  EXPECT_EQ(since.exit_code, 0) << since.err;
  EXPECT_EQ(since.out.find("staging"), std::string::npos) << since.out;
  EXPECT_NE(since.out.find("prod"), std::string::npos);
  EXPECT_EQ(Keelson({"audit", "log", "--repo", repo_, "--since", "last tuesday"}).exit_code, 2);
  EXPECT_EQ(Keelson({"audit", "log", "--repo", repo_, "--env", "qa"}).exit_code, 2);
}

TEST_F(AuditCliTest, ShowPrintsOneRecordAndChecksItsSignature) {
  ProcessResult r = Keelson({"audit", "show", "--repo", repo_, "keelson/audit/prod~1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("not checked"), std::string::npos);
  EXPECT_NE(r.out.find("\"kind\": \"reconcile.finished\""), std::string::npos) << r.out;
  ProcessResult checked =
      Keelson({"audit", "show", "--repo", repo_, "--allowed-signers", allowed_, "--env", "staging", "--seq", "2"});
  ASSERT_EQ(checked.exit_code, 0) << checked.err;
  EXPECT_NE(checked.out.find("signature good, by keelson-agents"), std::string::npos) << checked.out;
  EXPECT_NE(checked.out.find("\"environment\": \"staging\""), std::string::npos);
  EXPECT_EQ(Keelson({"audit", "show", "--repo", repo_, "no-such-rev"}).exit_code, 2);
}

TEST_F(AuditCliTest, VerifyPassesThenNamesTheFirstEditedRecord) {
  ProcessResult ok = Keelson({"audit", "verify", "--repo", repo_, "--allowed-signers", allowed_});
  ASSERT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("keelson/audit/prod: 3 records intact (seq 1-3), signed by keelson-agents"), std::string::npos)
      << ok.out;

  // Someone edits record 2 of prod with plain git and force-pushes it back.
  std::string clone = dir_.path() + "/clone";
  ASSERT_EQ(RunProgram({"git", "clone", "-q", "-b", "keelson/audit/prod", repo_, clone}).exit_code, 0);
  std::string file = clone + "/" + RecordPath(2);
  std::string text = keelson::testing::ReadFileOrDie(file);
  text.replace(text.find("\"healthy\""), 9, "\"unhealthy\"");
  dir_.Write("clone/" + RecordPath(2), text);
  ASSERT_EQ(RunProgram({"git", "-C", clone, "-c", "user.name=M", "-c", "user.email=m@example.com", "commit", "-q",
                        "-am", "fix typo"})
                .exit_code,
            0);
  ASSERT_EQ(RunProgram({"git", "-C", clone, "push", "-q", "-f", "origin", "keelson/audit/prod"}).exit_code, 0);

  ProcessResult log = Keelson({"audit", "log", "--repo", repo_, "--env", "prod"});
  EXPECT_EQ(log.exit_code, 0);
  EXPECT_NE(log.err.find("not an audit record: keelson/audit/prod"), std::string::npos) << log.err;
  EXPECT_NE(log.out.find("agent stopped"), std::string::npos);

  ProcessResult bad = Keelson({"audit", "verify", "--repo", repo_, "--allowed-signers", allowed_, "--env", "prod"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("record seq 4"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("not signed"), std::string::npos) << bad.err;
  // staging is untouched.
  EXPECT_EQ(Keelson({"audit", "verify", "--repo", repo_, "--allowed-signers", allowed_, "--env", "staging"}).exit_code,
            0);
  EXPECT_EQ(Keelson({"audit", "verify", "--repo", repo_}).exit_code, 2);
  EXPECT_EQ(Keelson({"audit", "verify", "--repo", repo_, "--allowed-signers", dir_.path() + "/none"}).exit_code, 2);
}

}  // namespace
}  // namespace keelson::audit
