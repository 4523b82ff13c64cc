// Runs the built `keelson` binary the way users do and checks output and
// exit codes.
#include <gtest/gtest.h>

#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace keelson {
namespace {

testing::ProcessResult Keelson(std::vector<std::string> args) {
  args.insert(args.begin(), KEELSON_BINARY);
  return testing::RunProgram(args);
}

TEST(Cli, VersionNamesLibraries) {
  testing::ProcessResult r = Keelson({"version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("keelson 0."), std::string::npos);
  EXPECT_NE(r.out.find("libgit2 "), std::string::npos);
  EXPECT_NE(r.out.find("OpenSSL 3"), std::string::npos);
}

TEST(Cli, HelpListsCommands) {
  testing::ProcessResult r = Keelson({"help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("render"), std::string::npos);
  EXPECT_EQ(Keelson({"help", "render"}).exit_code, 0);
}

TEST(Cli, UsageErrorsExitTwo) {
  EXPECT_EQ(Keelson({}).exit_code, 2);
  EXPECT_EQ(Keelson({"frobnicate"}).exit_code, 2);
  EXPECT_EQ(Keelson({"--log-format", "xml", "version"}).exit_code, 2);
  EXPECT_EQ(Keelson({"--log-level", "loud", "version"}).exit_code, 2);
  EXPECT_EQ(Keelson({"render"}).exit_code, 2);
}

TEST(Cli, RendersAPlainDirectory) {
  testing::TempDir dir;
  dir.Write("b.yaml", "kind: ConfigMap\napiVersion: v1\nmetadata: {name: b}\ndata: {x: \"1\"}\n");
  dir.Write("a.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n");
  testing::ProcessResult r = Keelson({"--log-format", "json", "render", dir.path()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n---\n"
            "apiVersion: v1\ndata:\n  x: \"1\"\nkind: ConfigMap\nmetadata:\n  name: b\n");
}

TEST(Cli, RenderErrorNamesFileAndLine) {
  testing::TempDir dir;
  dir.Write("bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n");
  testing::ProcessResult r = Keelson({"render", dir.path()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bad.yaml:5:3"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace keelson
