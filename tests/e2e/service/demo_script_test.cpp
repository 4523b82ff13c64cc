// `scripts/demo --once`, the README's first command, run as a user runs it
// (with the keelson just built): every step it narrates must happen.
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace keelson {
namespace {

TEST(DemoScript, AppliesRollsBackAndCorrectsDrift) {
  testing::TempDir dir;
  // The demo keeps its state in a directory under TMPDIR; this one goes
  // with the test. timeout(1) signals its whole process group, so a demo
  // that hangs leaves no sandbox or agent behind.
  testing::ProcessResult demo = testing::RunProgram(
      {"timeout", "-k", "10", "540", "env", std::string("KEELSON_DEMO_BINARY=") + KEELSON_BINARY,
       "TMPDIR=" + dir.path(), "bash", std::string(KEELSON_SOURCE_DIR) + "/scripts/demo", "--once"},
      "", dir.path(), 600);
  const std::string& out = demo.out;
  ASSERT_EQ(demo.exit_code, 0) << out << demo.err;
  // Step 2: every example unit healthy, from a commit signed by alice.
  for (const std::string unit : {"hello", "infra", "web"}) {
    // A status row: UNIT REVISION HEALTH SIGNER DRIFT [LAST ERROR].
    std::size_t at = out.find("\n" + unit + " ", out.find("\nUNIT "));
    ASSERT_NE(at, std::string::npos) << "no status row for " << unit << " in:\n" << out;
    std::istringstream row(out.substr(at + 1, out.find('\n', at + 1) - at - 1));
    std::string name, revision, health, signer;
    row >> name >> revision >> health >> signer;
    EXPECT_EQ(revision.size(), 12u) << unit;
    EXPECT_EQ(revision.find_first_not_of("0123456789abcdef"), std::string::npos) << unit;
    EXPECT_EQ(health, "Healthy") << unit;
    EXPECT_EQ(signer, "alice@example.com") << unit;
  }
  // Step 3: the broken image is rolled back; the old image keeps running.
  EXPECT_NE(out.find("unit web: rolled-back: "), std::string::npos) << out;
  EXPECT_NE(out.find("running image: nginx:1.25.3\n"), std::string::npos) << out;
  // Step 4: the hand-made change is seen and put back.
  EXPECT_NE(out.find("drift in unit web: apps/v1/Deployment/web/web-dev corrected"), std::string::npos) << out;
  EXPECT_NE(out.find("replicas: 1\n"), std::string::npos) << out;
  // Step 5: the audit trail holds each of those decisions, in order.
  std::size_t at = out.find("Audit trail");
  ASSERT_NE(at, std::string::npos) << out;
  for (const char* kind : {" reconcile.finished ", " rollback ", " drift.detected ", " drift.corrected "}) {
    at = out.find(kind, at);
    ASSERT_NE(at, std::string::npos) << "no" << kind << "record after the previous one in:\n" << out;
  }
  EXPECT_NE(out.find("demo done"), std::string::npos) << out;
}

}  // namespace
}  // namespace keelson
