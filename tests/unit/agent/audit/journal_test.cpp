// The journal: durable appends, torn tails cut off, damage refused,
// compaction keeps what is needed, one process at a time.
#include "agent/audit/journal.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/testing/temp_dir.h"

namespace keelson::audit {
namespace {

Record Next(const std::vector<Record>& before) {
  Record r;
  r.seq = before.empty() ? 1 : before.back().seq + 1;
  r.previous_id = before.empty() ? "" : before.back().id;
  r.environment = "prod";
  r.agent = "a";
  r.time = "2026-11-27T10:00:00.000Z";
  r.body = AgentStopped{"test " + std::to_string(r.seq)};
  r.id = ComputeRecordId(r);
  return r;
}

TEST(Journal, AppendsSurviveReopen) {
  testing::TempDir dir;
  std::string jdir = dir.path() + "/state/audit/prod";
  std::vector<Record> written;
  {
    Result<std::unique_ptr<Journal>> j = Journal::Open(jdir);
    ASSERT_TRUE(j.ok()) << j.error().ToString();
    for (int i = 0; i < 3; ++i) {
      written.push_back(Next(written));
      ASSERT_TRUE((*j)->Append(written.back()).ok());
    }
    // Out of sequence is refused.
    Record bad = Next(written);
    bad.seq += 1;
    EXPECT_FALSE((*j)->Append(bad).ok());
  }
  Result<std::unique_ptr<Journal>> j = Journal::Open(jdir);
  ASSERT_TRUE(j.ok());
  ASSERT_EQ((*j)->records().size(), 3u);
  EXPECT_EQ((*j)->records().back().id, written.back().id);
}

TEST(Journal, SecondOpenerIsRefused) {
  testing::TempDir dir;
  Result<std::unique_ptr<Journal>> first = Journal::Open(dir.path());
  ASSERT_TRUE(first.ok());
  Result<std::unique_ptr<Journal>> second = Journal::Open(dir.path());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, ErrorCode::kUnavailable);
}

TEST(Journal, UnfinishedLastLineIsCutOff) {
  testing::TempDir dir;
  std::vector<Record> written;
  {
    auto j = Journal::Open(dir.path());
    ASSERT_TRUE(j.ok());
    written.push_back(Next(written));
    ASSERT_TRUE((*j)->Append(written.back()).ok());
  }
  std::string half = CompactJson(Next(written));
  {
    std::ofstream out(dir.path() + "/journal.jsonl", std::ios::app | std::ios::binary);
    out << half.substr(0, half.size() / 2);
  }
  auto j = Journal::Open(dir.path());
  ASSERT_TRUE(j.ok()) << j.error().ToString();
  EXPECT_EQ((*j)->records().size(), 1u);
  // And appending continues cleanly after the cut.
  written.push_back(Next(written));
  ASSERT_TRUE((*j)->Append(written.back()).ok());
  j->reset();
  auto again = Journal::Open(dir.path());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->records().size(), 2u);
}

TEST(Journal, DamagedLineFailsWithItsLineNumber) {
  testing::TempDir dir;
  std::vector<Record> written;
  written.push_back(Next(written));
  written.push_back(Next(written));
  dir.Write("journal.jsonl", CompactJson(written[0]) + "\n{\"oops\":1}\n" + CompactJson(written[1]) + "\n");
  auto j = Journal::Open(dir.path());
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.error().where.line, 2);
  // A missing record in the middle is damage too.
  written.push_back(Next(written));
  dir.Write("journal.jsonl", CompactJson(written[0]) + "\n" + CompactJson(written[2]) + "\n");
  auto gap = Journal::Open(dir.path());
  ASSERT_FALSE(gap.ok());
  EXPECT_NE(gap.error().message.find("does not follow"), std::string::npos);
}

TEST(Journal, CompactKeepsUncommittedAndTheNewest) {
  testing::TempDir dir;
  auto j = Journal::Open(dir.path());
  ASSERT_TRUE(j.ok());
  std::vector<Record> written;
  for (int i = 0; i < 5; ++i) {
    written.push_back(Next(written));
    ASSERT_TRUE((*j)->Append(written.back()).ok());
  }
  ASSERT_TRUE((*j)->Compact(3).ok());
  ASSERT_EQ((*j)->records().size(), 2u);
  EXPECT_EQ((*j)->records().front().seq, 4u);
  ASSERT_TRUE((*j)->Compact(5).ok());
  ASSERT_EQ((*j)->records().size(), 1u);
  EXPECT_EQ((*j)->records().front().seq, 5u);
  written.push_back(Next(written));
  ASSERT_TRUE((*j)->Append(written.back()).ok());
  j->reset();
  auto again = Journal::Open(dir.path());
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  ASSERT_EQ((*again)->records().size(), 2u);
  EXPECT_EQ((*again)->records().back().seq, 6u);
}

}  // namespace
}  // namespace keelson::audit
