// Verification catches every way of rewriting the trail we can think of:
// edits, deletions, reordering, foreign keys, stray files; and promotion
// evidence only comes from an intact trail.
#include "agent/audit/trail.h"

#include <gtest/gtest.h>

#include "agent/audit/audit_writer.h"
#include "tests/unit/agent/audit/audit_test_support.h"

namespace keelson::audit {
namespace {

using keelson::testing::TempDir;
using testing_support::AgentKey;
using testing_support::AppliedHealthy;
using testing_support::MakeAgentKey;
using testing_support::Revision;
using testing_support::WriteAllowedSigners;

constexpr const char* kBranch = "keelson/audit/prod";

struct Step {
  std::string path;
  std::string content;
  std::string message;
  const SshSigner* signer;
};

Step StepFor(const Record& r, const SshSigner* signer) {
  return {RecordPath(r.seq), PrettyJson(r), CommitMessage(r), signer};
}

class TrailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    agent_ = MakeAgentKey(dir_, "agent");
    intruder_ = MakeAgentKey(dir_, "intruder");
    AuditWriterOptions o;
    o.state_dir = dir_.path() + "/state";
    o.repository = dir_.path() + "/audit.git";
    o.environment = "prod";
    o.signer = agent_.signer;
    auto w = AuditWriter::Open(o);
    ASSERT_TRUE(w.ok()) << w.error().ToString();
    ASSERT_TRUE((*w)->Append(AgentStarted{"0.1.0", "", "", ""}).ok());
    ASSERT_TRUE((*w)->Append(AppliedHealthy(Revision(7), 2)).ok());
    ReconcileFinished failed = AppliedHealthy(Revision(8), 2);
    failed.outcome = "rolled_back";
    failed.health = {"unhealthy", 300000, {"apps/v1/Deployment/prod/web"}, "CrashLoopBackOff"};
    ASSERT_TRUE((*w)->Append(failed).ok());
    ASSERT_TRUE((*w)->Append(Rollback{"r-8", Revision(8), Revision(7), "unhealthy", "succeeded", 1000}).ok());
    ASSERT_TRUE((*w)->Append(AgentStopped{"SIGTERM"}).ok());
    w->reset();
    Result<AuditRepository> repo = AuditRepository::Open(dir_.path() + "/audit.git");
    ASSERT_TRUE(repo.ok());
    repo_.emplace(std::move(*repo));
    Result<trust::AllowedSigners> allowed = trust::AllowedSigners::Load(WriteAllowedSigners(dir_, "keelson-prod", agent_));
    ASSERT_TRUE(allowed.ok());
    allowed_.emplace(std::move(*allowed));
    Result<std::vector<TrailEntry>> entries = ReadTrail(*repo_, kBranch);
    ASSERT_TRUE(entries.ok());
    for (const TrailEntry& e : *entries) records_.push_back(e.record);
    ASSERT_EQ(records_.size(), 5u);
  }

  // Replaces the branch with commits built from `steps`, as someone with
  // write access to the repository could.
  void Rewrite(const std::vector<Step>& steps) {
    std::string parent;
    for (const Step& s : steps) {
      auto sign = [&](std::string_view content) { return s.signer->Sign(content, "git"); };
      Result<std::string> c = repo_->WriteCommit(parent, s.path, s.content, s.message,
                                                 CommitIdentity{"x", "x@example.com", 1795000000, 0}, sign);
      ASSERT_TRUE(c.ok()) << c.error().ToString();
      parent = *c;
    }
    Result<std::optional<std::string>> tip = repo_->BranchTip(kBranch);
    ASSERT_TRUE(tip.ok());
    ASSERT_TRUE(repo_->UpdateBranch(kBranch, parent, *tip).ok());
  }

  std::vector<Step> Untouched() {
    std::vector<Step> steps;
    for (const Record& r : records_) steps.push_back(StepFor(r, agent_.signer.get()));
    return steps;
  }

  TrailProblem Problem() {
    Result<TrailReport> report = VerifyTrail(*repo_, kBranch, *allowed_);
    EXPECT_TRUE(report.ok());
    if (!report.ok() || report->intact()) {
      ADD_FAILURE() << "tampering went unnoticed";
      return {};
    }
    return *report->problem;
  }

  TempDir dir_;
  AgentKey agent_, intruder_;
  std::optional<AuditRepository> repo_;
  std::optional<trust::AllowedSigners> allowed_;
  std::vector<Record> records_;
};

TEST_F(TrailTest, OriginalTrailIsIntact) {
  Result<TrailReport> report = VerifyTrail(*repo_, kBranch, *allowed_);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->intact());
  EXPECT_EQ(report->entries.size(), 5u);
  // Rebuilding byte-identical records with the agent key is, rightly, intact.
  Rewrite(Untouched());
  EXPECT_TRUE(VerifyTrail(*repo_, kBranch, *allowed_)->intact());
}

TEST_F(TrailTest, EditedRecordRecommittedByAnotherKey) {
  std::vector<Step> steps = Untouched();
  Record edited = records_[2];
  std::get<ReconcileFinished>(edited.body).health.status = "healthy";
  edited.id = ComputeRecordId(edited);
  for (std::size_t i = 2; i < steps.size(); ++i) steps[i].signer = intruder_.signer.get();
  steps[2] = StepFor(edited, intruder_.signer.get());
  Rewrite(steps);
  TrailProblem p = Problem();
  EXPECT_EQ(p.seq, 3u);
  EXPECT_NE(p.message.find("not in the allowed signers"), std::string::npos) << p.ToString();
}

TEST_F(TrailTest, EditedRecordWithStaleIdEvenWithTheAgentKey) {
  std::vector<Step> steps = Untouched();
  Record edited = records_[2];
  std::get<ReconcileFinished>(edited.body).health.status = "healthy";  // id left as it was
  steps[2] = StepFor(edited, agent_.signer.get());
  Rewrite(steps);
  TrailProblem p = Problem();
  EXPECT_EQ(p.seq, 3u);
  EXPECT_NE(p.message.find("record id does not match"), std::string::npos) << p.ToString();
}

TEST_F(TrailTest, EditedRecordWithFreshIdBreaksTheChain) {
  std::vector<Step> steps = Untouched();
  Record edited = records_[2];
  std::get<ReconcileFinished>(edited.body).health.status = "healthy";
  edited.id = ComputeRecordId(edited);
  steps[2] = StepFor(edited, agent_.signer.get());
  Rewrite(steps);
  TrailProblem p = Problem();
  EXPECT_EQ(p.seq, 4u);
  EXPECT_NE(p.message.find("chain broken"), std::string::npos) << p.ToString();
}

TEST_F(TrailTest, DeletedRecord) {
  std::vector<Step> steps = Untouched();
  steps.erase(steps.begin() + 2);
  Rewrite(steps);
  TrailProblem p = Problem();
  EXPECT_EQ(p.seq, 3u);
  EXPECT_NE(p.message.find("a record is missing"), std::string::npos) << p.ToString();
}

TEST_F(TrailTest, ReorderedRecords) {
  std::vector<Step> steps = Untouched();
  std::swap(steps[2], steps[3]);
  Rewrite(steps);
  TrailProblem p = Problem();
  EXPECT_EQ(p.seq, 3u);
  EXPECT_NE(p.message.find("says seq 4"), std::string::npos) << p.ToString();
}

TEST_F(TrailTest, EditedMessageOrStrayFile) {
  std::vector<Step> steps = Untouched();
  steps[1].message = "prod: nothing to see here\n";
  Rewrite(steps);
  EXPECT_NE(Problem().message.find("commit message does not match"), std::string::npos);

  steps = Untouched();
  steps.insert(steps.begin() + 3, Step{"records/notes.txt", "hello\n", "note\n", agent_.signer.get()});
  Rewrite(steps);
  TrailProblem p = Problem();
  EXPECT_EQ(p.seq, 4u);
  EXPECT_NE(p.message.find("records/notes.txt"), std::string::npos) << p.ToString();
}

TEST_F(TrailTest, HealthEvidenceComesOnlyFromAnIntactTrail) {
  auto healthy = FindHealthyRecord(*repo_, "prod", Revision(7), *allowed_);
  ASSERT_TRUE(healthy.ok()) << healthy.error().ToString();
  ASSERT_TRUE(healthy->has_value());
  EXPECT_EQ((*healthy)->seq, 2u);
  EXPECT_EQ((*healthy)->revision, Revision(7));

  auto rolled_back = FindHealthyRecord(*repo_, "prod", Revision(8), *allowed_);
  ASSERT_TRUE(rolled_back.ok());
  EXPECT_FALSE(rolled_back->has_value());
  auto unknown = FindHealthyRecord(*repo_, "prod", Revision(9), *allowed_);
  ASSERT_TRUE(unknown.ok());
  EXPECT_FALSE(unknown->has_value());
  EXPECT_EQ(FindHealthyRecord(*repo_, "staging", Revision(7), *allowed_).error().code, ErrorCode::kNotFound);

  // Forging "revision 8 was healthy" needs a rewrite, which verification sees.
  std::vector<Step> steps = Untouched();
  Record forged = records_[2];
  auto& f = std::get<ReconcileFinished>(forged.body);
  f.outcome = "applied";
  f.health = {"healthy", 1000, {}, ""};
  forged.id = ComputeRecordId(forged);
  steps[2] = StepFor(forged, intruder_.signer.get());
  Rewrite(steps);
  auto evidence = FindHealthyRecord(*repo_, "prod", Revision(8), *allowed_);
  ASSERT_FALSE(evidence.ok());
  EXPECT_EQ(evidence.error().code, ErrorCode::kCheckFailed);
  EXPECT_NE(evidence.error().message.find("not intact"), std::string::npos);
}

}  // namespace
}  // namespace keelson::audit
