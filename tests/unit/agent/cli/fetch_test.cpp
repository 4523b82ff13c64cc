#include <gtest/gtest.h>

#include <filesystem>

#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tests/unit/agent/source/git_fixture.h"

namespace keelson::cli {
namespace {

using keelson::source::testing::CommitFile;
using keelson::source::testing::Git;

TEST(FetchCommand, ClonesThenFetchesIncrementallyAndReportsTheChange) {
  keelson::testing::TempDir dir;
  std::string work = dir.path() + "/work";
  std::filesystem::create_directories(work);
  keelson::source::testing::InitRepo(work);
  std::string first = CommitFile(work, "a.txt", "1\n", "first");
  std::vector<std::string> argv = {KEELSON_BINARY, "fetch", "--url", "file://" + work, "--state-dir",
                                   dir.path() + "/state", "--name", "app"};
  keelson::testing::ProcessResult created = keelson::testing::RunProgram(argv);
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_TRUE(created.out.starts_with("refs/heads/main " + first + " created objects=3 bytes=")) << created.out;
  std::string second = CommitFile(work, "a.txt", "2\n", "second");
  keelson::testing::ProcessResult moved = keelson::testing::RunProgram(argv);
  ASSERT_EQ(moved.exit_code, 0) << moved.err;
  EXPECT_TRUE(moved.out.starts_with("refs/heads/main " + second + " fast-forward objects=3 bytes=")) << moved.out;
  EXPECT_EQ(Git(dir.path() + "/state/app.git", {"rev-parse", "main"}), second);
}

TEST(FetchCommand, ExitsWithTwoOnUsageErrorsAndOneWhenTheRemoteFails) {
  keelson::testing::TempDir dir;
  EXPECT_EQ(keelson::testing::RunProgram({KEELSON_BINARY, "fetch", "--url", "file:///x"}).exit_code, 2);
  EXPECT_EQ(keelson::testing::RunProgram({KEELSON_BINARY, "fetch", "--url", "ssh://h/r", "--state-dir", dir.path(),
                                          "--ssh-key", "/k"})
                .exit_code,
            2);  // no known_hosts
  keelson::testing::ProcessResult down = keelson::testing::RunProgram(
      {KEELSON_BINARY, "fetch", "--url", "file://" + dir.path() + "/none", "--state-dir", dir.path() + "/s",
       "--attempts", "1"});
  EXPECT_EQ(down.exit_code, 1);
  EXPECT_NE(down.err.find("keelson: error:"), std::string::npos);
}

}  // namespace
}  // namespace keelson::cli
