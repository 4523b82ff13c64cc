// Builds the Debian package from this build tree with CPack, checks its
// metadata and contents, then installs and purges it in a throwaway root
// with dpkg (maintainer scripts run with DPKG_ROOT).
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace keelson {
namespace {

class DebPackage : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!testing::HaveProgram("cpack") || !testing::HaveProgram("dpkg-deb")) return;
    out_ = new testing::TempDir();
    testing::ProcessResult r =
        testing::RunProgram({"cpack", "-G", "DEB", "-B", out_->path()}, "", KEELSON_BUILD_DIR, 300);
    build_log_ = r.out + r.err;
    for (const auto& e : std::filesystem::directory_iterator(out_->path())) {
      if (e.path().extension() == ".deb") deb_ = e.path().string();
    }
  }
  static void TearDownTestSuite() {
    delete out_;
    out_ = nullptr;
  }
  void SetUp() override {
    if (out_ == nullptr) GTEST_SKIP() << "cpack or dpkg-deb missing";
    ASSERT_FALSE(deb_.empty()) << build_log_;
  }

  static inline testing::TempDir* out_ = nullptr;
  static inline std::string deb_;
  static inline std::string build_log_;
};

TEST_F(DebPackage, DeclaresRuntimeDependencies) {
  testing::ProcessResult r = testing::RunProgram({"dpkg-deb", "-f", deb_, "Depends"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* dep : {"libssl3", "libyaml-cpp0.7", "libstdc++6", "systemd"}) {
    EXPECT_NE(r.out.find(dep), std::string::npos) << dep << " missing in: " << r.out;
  }
}

TEST_F(DebPackage, ShipsBinaryUnitConfigAndManPage) {
  testing::ProcessResult r = testing::RunProgram({"dpkg-deb", "-c", deb_});
  ASSERT_EQ(r.exit_code, 0);
  for (const char* path : {"./usr/bin/keelson", "./usr/lib/systemd/system/keelson.service",
                           "./usr/lib/sysusers.d/keelson.conf", "./usr/lib/tmpfiles.d/keelson.conf",
                           "./etc/keelson/agent.yaml", "./usr/share/man/man1/keelson.1"}) {
    EXPECT_NE(r.out.find(path), std::string::npos) << path;
  }
  testing::TempDir control;
  ASSERT_EQ(testing::RunProgram({"dpkg-deb", "-e", deb_, control.path() + "/DEBIAN"}).exit_code, 0);
  EXPECT_EQ(testing::ReadFileOrDie(control.path() + "/DEBIAN/conffiles"), "/etc/keelson/agent.yaml\n");
}

TEST_F(DebPackage, InstallsAndPurgesInAThrowawayRoot) {
  if (!testing::HaveProgram("dpkg")) GTEST_SKIP() << "dpkg missing";
  testing::TempDir root;
  std::filesystem::create_directories(root.path() + "/var/lib/dpkg/info");
  std::filesystem::create_directories(root.path() + "/var/lib/dpkg/updates");
  std::filesystem::create_directories(root.path() + "/etc");
  root.Write("var/lib/dpkg/status", "");
  testing::ProcessResult install = testing::RunProgram({"dpkg", "--root=" + root.path(), "--force-depends",
                                                        "--force-script-chrootless", "--log=/dev/null", "-i", deb_});
  ASSERT_EQ(install.exit_code, 0) << install.out << install.err;
  EXPECT_TRUE(std::filesystem::exists(root.path() + "/usr/bin/keelson"));
  std::string passwd = testing::ReadFileOrDie(root.path() + "/etc/passwd");
  EXPECT_NE(passwd.find("keelson:x:"), std::string::npos) << "postinst did not create the system user";
  EXPECT_TRUE(std::filesystem::is_directory(root.path() + "/var/lib/keelson"));
  testing::ProcessResult version = testing::RunProgram({root.path() + "/usr/bin/keelson", "version"});
  EXPECT_EQ(version.exit_code, 0) << version.err;
  testing::ProcessResult purge = testing::RunProgram(
      {"dpkg", "--root=" + root.path(), "--force-script-chrootless", "--log=/dev/null", "--purge", "keelson"});
  ASSERT_EQ(purge.exit_code, 0) << purge.out << purge.err;
  EXPECT_FALSE(std::filesystem::exists(root.path() + "/usr/bin/keelson"));
  EXPECT_FALSE(std::filesystem::exists(root.path() + "/var/lib/keelson"));
}

}  // namespace
}  // namespace keelson
