// The Debian package built once per test process from this build tree with
// CPack, and installed with dpkg into a throwaway root (maintainer scripts
// run with DPKG_ROOT). Tests skip when cpack or dpkg-deb is missing.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace keelson {

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

  // dpkg -i into `root`, an empty directory that becomes a minimal dpkg
  // database; the package's Depends are the host's business (the root holds
  // only the package's files).
  static testing::ProcessResult InstallInto(const testing::TempDir& root) {
    std::filesystem::create_directories(root.path() + "/var/lib/dpkg/info");
    std::filesystem::create_directories(root.path() + "/var/lib/dpkg/updates");
    std::filesystem::create_directories(root.path() + "/etc");
    root.Write("var/lib/dpkg/status", "");
    return testing::RunProgram({"dpkg", "--root=" + root.path(), "--force-depends", "--force-script-chrootless",
                                "--log=/dev/null", "-i", deb_});
  }

  static inline testing::TempDir* out_ = nullptr;
  static inline std::string deb_;
  static inline std::string build_log_;
};

}  // namespace keelson
