#include "tests/unit/agent/source/git_fixture.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/testing/subprocess.h"

namespace keelson::source::testing {

std::string Git(const std::string& dir, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"git", "-C", dir, "-c", "user.name=Keelson Test", "-c",
                                   "user.email=test@keelson.invalid", "-c", "commit.gpgsign=false", "-c",
                                   "tag.gpgsign=false", "-c", "init.defaultBranch=main", "-c",
                                   "protocol.file.allow=always"};
  argv.insert(argv.end(), args.begin(), args.end());
  keelson::testing::ProcessResult r = keelson::testing::RunProgram(argv);
  std::string shown;
  for (const std::string& a : args) shown += " " + a;
  EXPECT_EQ(r.exit_code, 0) << "git" << shown << ": " << r.err;
  while (!r.out.empty() && r.out.back() == '\n') r.out.pop_back();
  return r.out;
}

std::string CommitFile(const std::string& dir, const std::string& relative, const std::string& contents,
                       const std::string& message) {
  std::filesystem::path full = std::filesystem::path(dir) / relative;
  std::filesystem::create_directories(full.parent_path());
  std::ofstream(full, std::ios::binary) << contents;
  Git(dir, {"add", "--", relative});
  Git(dir, {"commit", "-q", "-m", message});
  return Git(dir, {"rev-parse", "HEAD"});
}

void InitRepo(const std::string& dir) {
  Git(dir, {"init", "-q", "-b", "main"});
}

}  // namespace keelson::source::testing
