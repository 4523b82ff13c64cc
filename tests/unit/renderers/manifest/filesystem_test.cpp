#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "renderers/manifest/filesystem.h"
#include "tests/testing/temp_dir.h"

namespace keelson::manifest {
namespace {

TEST(CleanPath, NormalizesAndRefusesEscapes) {
  EXPECT_EQ(*CleanPath("a/./b//c/../d"), "a/b/d");
  EXPECT_EQ(*CleanPath("."), "");
  EXPECT_EQ(CleanPath("../x").error().code, ErrorCode::kAccessDenied);
  EXPECT_EQ(CleanPath("a/../../x").error().code, ErrorCode::kAccessDenied);
  EXPECT_EQ(CleanPath("/etc/passwd").error().code, ErrorCode::kAccessDenied);
  EXPECT_EQ(*JoinPath("envs/prod", "../../base"), "base");
}

TEST(DiskFileSystem, RefusesSymlinksPointingOutside) {
  testing::TempDir outside;
  outside.Write("secret.txt", "s3cret");
  testing::TempDir root;
  root.Write("in/ok.yaml", "a: 1\n");
  ASSERT_EQ(symlink((outside.path() + "/secret.txt").c_str(), (root.path() + "/in/link.yaml").c_str()), 0);
  ASSERT_EQ(symlink("ok.yaml", (root.path() + "/in/inner.yaml").c_str()), 0);
  DiskFileSystem fs(root.path());
  EXPECT_EQ(*fs.ReadFile("in/ok.yaml"), "a: 1\n");
  EXPECT_EQ(*fs.ReadFile("in/inner.yaml"), "a: 1\n");
  Result<std::string> escaped = fs.ReadFile("in/link.yaml");
  ASSERT_FALSE(escaped.ok());
  EXPECT_EQ(escaped.error().code, ErrorCode::kAccessDenied);
  Result<std::vector<DirEntry>> entries = fs.ListDirectory("in");
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 2u);  // the escaping link is not listed
  EXPECT_EQ((*entries)[0].name, "inner.yaml");
  EXPECT_EQ(fs.ReadFile("missing.yaml").error().code, ErrorCode::kNotFound);
}

TEST(DiskFileSystem, FollowsSymlinksThatStayInside) {
  testing::TempDir root;
  root.Write("a/file.yaml", "x: 1\n");
  root.Write("b/other.yaml", "y: 2\n");
  // Absolute and relative links into the root, a link to a directory, a
  // link that climbs out and back in, and a dangling one.
  ASSERT_EQ(symlink((root.path() + "/a/file.yaml").c_str(), (root.path() + "/b/abs.yaml").c_str()), 0);
  ASSERT_EQ(symlink("../a", (root.path() + "/b/dir").c_str()), 0);
  std::string around = "../../" + std::filesystem::path(root.path()).filename().string() + "/a/file.yaml";
  ASSERT_EQ(symlink(around.c_str(), (root.path() + "/b/around.yaml").c_str()), 0);
  ASSERT_EQ(symlink("missing.yaml", (root.path() + "/b/dangling.yaml").c_str()), 0);
  DiskFileSystem fs(root.path());
  EXPECT_EQ(*fs.ReadFile("b/abs.yaml"), "x: 1\n");
  EXPECT_EQ(*fs.ReadFile("b/dir/file.yaml"), "x: 1\n");
  EXPECT_EQ(*fs.ReadFile("b/around.yaml"), "x: 1\n");
  EXPECT_EQ(fs.Type("b/dir"), FileType::kDirectory);
  EXPECT_EQ(fs.Type("b/abs.yaml"), FileType::kFile);
  EXPECT_EQ(fs.Type("b/dangling.yaml"), FileType::kMissing);
  EXPECT_EQ(fs.ReadFile("b/dangling.yaml").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(fs.ReadFile("a").error().code, ErrorCode::kInvalidInput);
  Result<std::vector<DirEntry>> entries = fs.ListDirectory("b");
  ASSERT_TRUE(entries.ok());
  std::vector<std::string> names;
  for (const DirEntry& e : *entries) names.push_back(e.name + (e.type == FileType::kDirectory ? "/" : ""));
  EXPECT_EQ(names, (std::vector<std::string>{"abs.yaml", "around.yaml", "dir/", "other.yaml"}));
  EXPECT_EQ(fs.ListDirectory("b/dir")->size(), 1u);
}

TEST(MemoryFileSystem, ListsAndRecordsReads) {
  MemoryFileSystem fs;
  fs.AddFile("a/b.yaml", "x");
  fs.AddFile("a/c/d.yaml", "y");
  EXPECT_EQ(fs.Type("a"), FileType::kDirectory);
  EXPECT_EQ(fs.Type("a/b.yaml"), FileType::kFile);
  Result<std::vector<DirEntry>> entries = fs.ListDirectory("a");
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[1].type, FileType::kDirectory);
  EXPECT_EQ(*fs.ReadFile("a/./b.yaml"), "x");
  EXPECT_EQ(fs.reads(), std::vector<std::string>{"a/b.yaml"});
}

}  // namespace
}  // namespace keelson::manifest
