#include "agent/source/git_repository.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tests/unit/agent/source/git_fixture.h"

namespace keelson::source {
namespace {

using testing::CommitFile;
using testing::Git;
using testing::InitRepo;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

TEST(GitRepository, OpensWorkingAndBareRepositoriesAndReportsMissing) {
  keelson::testing::TempDir dir;
  std::string work = dir.path() + "/work";
  std::filesystem::create_directories(work);
  InitRepo(work);
  std::string head = CommitFile(work, "a.txt", "a\n", "first");
  Git(dir.path(), {"clone", "-q", "--bare", work, dir.path() + "/bare.git"});

  Result<GitRepository> opened = GitRepository::Open(work);
  ASSERT_TRUE(opened.ok()) << opened.error().ToString();
  EXPECT_EQ(*opened->ResolveRevision("HEAD"), head);
  Result<GitRepository> bare = GitRepository::Open(dir.path() + "/bare.git");
  ASSERT_TRUE(bare.ok()) << bare.error().ToString();
  EXPECT_EQ(*bare->ResolveRevision("refs/heads/main"), head);

  Result<GitRepository> missing = GitRepository::Open(dir.path() + "/nothing");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().ToString().find("nothing"), std::string::npos);
}

TEST(GitRepository, ResolvesRevisionsLikeRevParse) {
  keelson::testing::TempDir dir;
  InitRepo(dir.path());
  std::string first = CommitFile(dir.path(), "a.txt", "1\n", "one");
  CommitFile(dir.path(), "a.txt", "2\n", "two");
  Git(dir.path(), {"tag", "-a", "-m", "release", "v1.0.0"});
  Git(dir.path(), {"tag", "light"});
  Result<GitRepository> repo = GitRepository::Open(dir.path());
  ASSERT_TRUE(repo.ok());
  for (std::string spec : {"HEAD", "HEAD~1", "main", "v1.0.0", "v1.0.0^{commit}", "light", "HEAD^{tree}"}) {
    EXPECT_EQ(*repo->ResolveRevision(spec), Git(dir.path(), {"rev-parse", "--verify", spec})) << spec;
  }
  EXPECT_EQ(*repo->ResolveRevision(first.substr(0, 10)), first);
  Result<std::string> bad = repo->ResolveRevision("no-such-branch");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kNotFound);
  EXPECT_NE(bad.error().message.find("no-such-branch"), std::string::npos);
  EXPECT_FALSE(repo->ResolveRevision("").ok());
}

class HistoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    InitRepo(dir_.path());
    base_ = CommitFile(dir_.path(), "base.txt", "base\n", "base");
    CommitFile(dir_.path(), "main1.txt", "m1\n", "main 1");
    Git(dir_.path(), {"checkout", "-q", "-b", "feature", base_});
    CommitFile(dir_.path(), "f1.txt", "f1\n", "feature 1");
    CommitFile(dir_.path(), "f2.txt", "f2\n", "feature 2");
    Git(dir_.path(), {"checkout", "-q", "main"});
    Git(dir_.path(), {"-c", "user.name=x", "merge", "-q", "--no-ff", "-m", "merge feature", "feature"});
    CommitFile(dir_.path(), "after.txt", "after\n", "after merge");
  }

  keelson::testing::TempDir dir_;
  std::string base_;
};

TEST_F(HistoryTest, ListsRangesOldestFirstWithParentsLikeRevList) {
  Result<GitRepository> repo = GitRepository::Open(dir_.path());
  ASSERT_TRUE(repo.ok());
  for (Ancestry ancestry : {Ancestry::kAllParents, Ancestry::kFirstParent}) {
    std::vector<std::string> args = {"rev-list", "--reverse", "--topo-order", "--parents"};
    if (ancestry == Ancestry::kFirstParent) args.push_back("--first-parent");
    args.push_back(base_ + "..main");
    std::vector<std::string> expected = Lines(Git(dir_.path(), args));
    Result<std::vector<CommitInfo>> commits = repo->ListCommits(base_, "main", ancestry);
    ASSERT_TRUE(commits.ok()) << commits.error().ToString();
    ASSERT_EQ(commits->size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
      std::string line = (*commits)[i].id;
      for (const std::string& p : (*commits)[i].parents) line += " " + p;
      EXPECT_EQ(line, expected[i]) << i;
    }
  }
  // A merge appears with both parents, and parents precede children.
  Result<std::vector<CommitInfo>> all = repo->ListCommits(base_, "main");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 5u);
  Result<std::vector<CommitInfo>> first_parent = repo->ListCommits(base_, "main", Ancestry::kFirstParent);
  EXPECT_EQ(first_parent->size(), 3u);
  Result<std::vector<CommitInfo>> everything = repo->ListCommits("", "main");
  EXPECT_EQ(everything->size(), 6u);
  EXPECT_TRUE(everything->front().parents.empty());
  EXPECT_EQ(repo->ListCommits(base_, "main", Ancestry::kAllParents, 2).error().code, ErrorCode::kLimitExceeded);
  EXPECT_EQ(repo->ListCommits("nope", "main").error().code, ErrorCode::kNotFound);
}

TEST_F(HistoryTest, ReportsAncestryAndChangedPaths) {
  Result<GitRepository> repo = GitRepository::Open(dir_.path());
  ASSERT_TRUE(repo.ok());
  EXPECT_TRUE(*repo->IsAncestor(base_, "main"));
  EXPECT_TRUE(*repo->IsAncestor("main", "main"));
  EXPECT_FALSE(*repo->IsAncestor("main", "feature"));
  EXPECT_EQ(*repo->ChangedPaths("main"), std::vector<std::string>{"after.txt"});
  EXPECT_EQ(*repo->ChangedPaths("main^"), (std::vector<std::string>{"f1.txt", "f2.txt"}));  // merge vs first parent
  EXPECT_EQ(*repo->ChangedPaths(base_), std::vector<std::string>{"base.txt"});
}

TEST(GitRepository, ReadsCommitsAndTagsByteForByteLikeCatFile) {
  keelson::testing::TempDir dir;
  InitRepo(dir.path());
  CommitFile(dir.path(), "a.txt", "a\n", "subject\n\nbody with trailing spaces   \n");
  Git(dir.path(), {"tag", "-a", "-m", "tag message", "v1"});
  Result<GitRepository> repo = GitRepository::Open(dir.path());
  ASSERT_TRUE(repo.ok());
  Result<RawObject> commit = repo->ReadRawObject("HEAD");
  ASSERT_TRUE(commit.ok());
  EXPECT_EQ(commit->kind, ObjectKind::kCommit);
  keelson::testing::ProcessResult expected = keelson::testing::RunProgram({"git", "-C", dir.path(), "cat-file", "commit", "HEAD"});
  EXPECT_EQ(commit->data, expected.out);
  Result<RawObject> tag = repo->ReadRawObject("v1");
  ASSERT_TRUE(tag.ok());
  EXPECT_EQ(tag->kind, ObjectKind::kTag);
  EXPECT_EQ(tag->data, keelson::testing::RunProgram({"git", "-C", dir.path(), "cat-file", "tag", "v1"}).out);
  EXPECT_STREQ(ObjectKindName(tag->kind), "tag");
}

class SnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    work_ = dir_.path() + "/work";
    std::filesystem::create_directories(work_);
    InitRepo(work_);
    dir_.Write("work/envs/prod/kustomization.yaml", "resources:\n- ../../base\n");
    dir_.Write("work/base/deploy.yaml", "kind: Deployment\n");
    dir_.Write("work/base/a.b", "dot\n");
    dir_.Write("work/base/a/x", "nested\n");
    std::filesystem::create_symlink("../base/deploy.yaml", work_ + "/envs/link.yaml");
    std::filesystem::create_symlink("../base", work_ + "/envs/basedir");
    std::filesystem::create_symlink("../../../etc/passwd", work_ + "/envs/escape.yaml");
    std::filesystem::create_symlink("/etc/passwd", work_ + "/envs/absolute.yaml");
    std::filesystem::create_symlink("loop2", work_ + "/loop1");
    std::filesystem::create_symlink("loop1", work_ + "/loop2");
    Git(work_, {"add", "-A"});
    Git(work_, {"commit", "-q", "-m", "tree"});
    Git(dir_.path(), {"clone", "-q", "--bare", work_, dir_.path() + "/bare.git"});
  }

  keelson::testing::TempDir dir_;
  std::string work_;
};

TEST_F(SnapshotTest, ReadsFilesAndDirectoriesStraightFromTheObjectDatabase) {
  Result<GitRepository> repo = GitRepository::Open(dir_.path() + "/bare.git");
  ASSERT_TRUE(repo.ok());
  Result<std::unique_ptr<manifest::FileSystem>> snap = repo->Snapshot("main");
  ASSERT_TRUE(snap.ok()) << snap.error().ToString();
  const manifest::FileSystem& fs = **snap;
  EXPECT_EQ(*fs.ReadFile("envs/prod/kustomization.yaml"), "resources:\n- ../../base\n");
  EXPECT_EQ(*fs.ReadFile("./base//deploy.yaml"), "kind: Deployment\n");
  EXPECT_EQ(*fs.ReadFile("envs/prod/../../base/deploy.yaml"), "kind: Deployment\n");
  EXPECT_EQ(fs.Type("base"), manifest::FileType::kDirectory);
  EXPECT_EQ(fs.Type(""), manifest::FileType::kDirectory);
  EXPECT_EQ(fs.Type("base/deploy.yaml"), manifest::FileType::kFile);
  EXPECT_EQ(fs.Type("base/missing"), manifest::FileType::kMissing);
  Result<std::vector<manifest::DirEntry>> base = fs.ListDirectory("base");
  ASSERT_TRUE(base.ok());
  ASSERT_EQ(base->size(), 3u);
  EXPECT_EQ((*base)[0].name, "a");
  EXPECT_EQ((*base)[0].type, manifest::FileType::kDirectory);
  EXPECT_EQ((*base)[1].name, "a.b");
  EXPECT_EQ((*base)[2].name, "deploy.yaml");
  EXPECT_EQ(fs.ReadFile("base").error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(fs.ReadFile("base/deploy.yaml/x").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(fs.ListDirectory("nowhere").error().code, ErrorCode::kNotFound);
  EXPECT_NE(fs.Describe().find("bare.git@"), std::string::npos);
  // The snapshot outlives the repository object that made it.
  repo = GitRepository::Open(work_);
  EXPECT_EQ(*fs.ReadFile("base/a/x"), "nested\n");
}

TEST_F(SnapshotTest, FollowsSymlinksOnlyInsideTheTree) {
  Result<GitRepository> repo = GitRepository::Open(dir_.path() + "/bare.git");
  ASSERT_TRUE(repo.ok());
  Result<std::unique_ptr<manifest::FileSystem>> snap = repo->Snapshot("main");
  ASSERT_TRUE(snap.ok());
  const manifest::FileSystem& fs = **snap;
  EXPECT_EQ(*fs.ReadFile("envs/link.yaml"), "kind: Deployment\n");
  EXPECT_EQ(*fs.ReadFile("envs/basedir/a/x"), "nested\n");
  EXPECT_EQ(fs.Type("envs/basedir"), manifest::FileType::kDirectory);
  for (const char* path : {"envs/escape.yaml", "envs/absolute.yaml", "../x", "/etc/passwd", "base/../../x"}) {
    Result<std::string> refused = fs.ReadFile(path);
    ASSERT_FALSE(refused.ok()) << path;
    EXPECT_EQ(refused.error().code, ErrorCode::kAccessDenied) << path;
    EXPECT_EQ(refused.error().where.file, path);
  }
  EXPECT_EQ(fs.ReadFile("loop1").error().code, ErrorCode::kLimitExceeded);
  Result<std::vector<manifest::DirEntry>> envs = fs.ListDirectory("envs");
  ASSERT_TRUE(envs.ok());
  std::vector<std::string> names;
  for (const manifest::DirEntry& e : *envs) names.push_back(e.name);
  EXPECT_EQ(names, (std::vector<std::string>{"basedir", "link.yaml", "prod"}));
}

TEST(GitRepository, RefusesFilesAboveTheSizeLimitWithoutReadingThem) {
  keelson::testing::TempDir dir;
  InitRepo(dir.path());
  {
    std::ofstream big(dir.path() + "/big.bin", std::ios::binary);
    big.seekp(static_cast<std::streamoff>(manifest::kMaxFileBytes));
    big.put('x');
  }
  Git(dir.path(), {"add", "big.bin"});
  Git(dir.path(), {"commit", "-q", "-m", "big"});
  Result<GitRepository> repo = GitRepository::Open(dir.path());
  ASSERT_TRUE(repo.ok());
  Result<std::unique_ptr<manifest::FileSystem>> snap = repo->Snapshot("HEAD");
  ASSERT_TRUE(snap.ok());
  Result<std::string> big = (*snap)->ReadFile("big.bin");
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().code, ErrorCode::kLimitExceeded);
  EXPECT_EQ((*snap)->Type("big.bin"), manifest::FileType::kFile);
}

TEST(GitRepository, IgnoresTreeEntriesNamedDotDot) {
  keelson::testing::TempDir dir;
  InitRepo(dir.path());
  std::string blob = Git(dir.path(), {"hash-object", "-w", "--stdin"});
  // git mktree writes what it is given; a hostile remote can send the same.
  keelson::testing::ProcessResult tree = keelson::testing::RunProgram(
      {"git", "-C", dir.path(), "mktree"}, "100644 blob " + blob + "\t..\n100644 blob " + blob + "\tok\n");
  if (tree.exit_code != 0) GTEST_SKIP() << "git mktree refuses a '..' entry: " << tree.err;
  while (!tree.out.empty() && tree.out.back() == '\n') tree.out.pop_back();
  std::string commit = Git(dir.path(), {"commit-tree", "-m", "hostile", tree.out});
  Result<GitRepository> repo = GitRepository::Open(dir.path());
  Result<std::unique_ptr<manifest::FileSystem>> snap = repo->Snapshot(commit);
  ASSERT_TRUE(snap.ok());
  Result<std::vector<manifest::DirEntry>> entries = (*snap)->ListDirectory("");
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].name, "ok");
}

TEST(GitRepository, SetsListsAndDeletesReferences) {
  keelson::testing::TempDir dir;
  InitRepo(dir.path());
  std::string head = CommitFile(dir.path(), "a.txt", "a\n", "first");
  Result<GitRepository> repo = GitRepository::Open(dir.path());
  ASSERT_TRUE(repo.ok());
  ASSERT_TRUE(repo->SetReference("refs/keelson/x/main", head, "test").ok());
  Result<std::vector<Reference>> refs = repo->ListReferences("refs/keelson/");
  ASSERT_TRUE(refs.ok());
  ASSERT_EQ(refs->size(), 1u);
  EXPECT_EQ((*refs)[0].name, "refs/keelson/x/main");
  EXPECT_EQ((*refs)[0].target, head);
  EXPECT_EQ(Git(dir.path(), {"rev-parse", "refs/keelson/x/main"}), head);
  EXPECT_FALSE(repo->SetReference("refs/keelson/bad", "1234", "test").ok());
  EXPECT_FALSE(repo->SetReference("refs/keelson/missing", std::string(40, 'a'), "test").ok());
  ASSERT_TRUE(repo->DeleteReference("refs/keelson/x/main").ok());
  ASSERT_TRUE(repo->DeleteReference("refs/keelson/x/main").ok());
  EXPECT_TRUE(repo->ListReferences("refs/keelson/")->empty());
}

TEST(GitRepository, FetchesOverFileUrlsIntoABareRepository) {
  keelson::testing::TempDir dir;
  std::string work = dir.path() + "/work";
  std::filesystem::create_directories(work);
  InitRepo(work);
  std::string head = CommitFile(work, "a.txt", "a\n", "first");
  Result<GitRepository> mirror = GitRepository::InitBare(dir.path() + "/mirror.git");
  ASSERT_TRUE(mirror.ok()) << mirror.error().ToString();
  FetchOptions options;
  Result<std::vector<Reference>> remote = mirror->ListRemote("file://" + work, options);
  ASSERT_TRUE(remote.ok()) << remote.error().ToString();
  bool saw_main = false;
  for (const Reference& r : *remote) saw_main |= (r.name == "refs/heads/main" && r.target == head);
  EXPECT_TRUE(saw_main);
  Result<FetchStats> stats = mirror->Fetch("file://" + work, {"+refs/heads/main:refs/test/main"}, options);
  ASSERT_TRUE(stats.ok()) << stats.error().ToString();
  EXPECT_EQ(*mirror->ResolveRevision("refs/test/main"), head);
  FetchOptions capped;
  capped.max_receive_bytes = 10;
  CommitFile(work, "b.txt", std::string(4096, 'b'), "second");
  Result<FetchStats> too_big = mirror->Fetch("file://" + work, {"+refs/heads/main:refs/test/big"}, capped);
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.error().code, ErrorCode::kLimitExceeded) << too_big.error().ToString();
  EXPECT_FALSE(mirror->ResolveRevision("refs/test/big").ok());
  Result<FetchStats> failed = mirror->Fetch("file://" + dir.path() + "/none", {"+refs/heads/main:refs/test/x"}, options);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, ErrorCode::kUnavailable);
}

TEST(GitRepository, ReportsLibraryFeatures) {
  GitRepository::Features features = GitRepository::LibraryFeatures();
  EXPECT_TRUE(features.threads);
  std::cout << "libgit2 https=" << features.https << " ssh=" << features.ssh << "\n";
}

}  // namespace
}  // namespace keelson::source
