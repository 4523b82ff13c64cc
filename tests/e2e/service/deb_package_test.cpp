// Builds the Debian package from this build tree with CPack, checks its
// metadata and contents, then installs and purges it in a throwaway root
// with dpkg (maintainer scripts run with DPKG_ROOT).
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/e2e/service/deb_package_fixture.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace keelson {
namespace {

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
  testing::ProcessResult install = InstallInto(root);
  ASSERT_EQ(install.exit_code, 0) << install.out << install.err;
  EXPECT_TRUE(std::filesystem::exists(root.path() + "/usr/bin/keelson"));
  testing::ProcessResult sections = testing::RunProgram({"readelf", "-S", "-W", root.path() + "/usr/bin/keelson"});
  ASSERT_EQ(sections.exit_code, 0) << sections.err;
  EXPECT_EQ(sections.out.find(".debug_info"), std::string::npos) << "the packaged binary is not stripped";
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
