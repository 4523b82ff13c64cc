// The Debian package built from this build tree with CPack, and installed
// with dpkg into a throwaway root (maintainer scripts run with DPKG_ROOT).
// ctest runs every test in a process of its own, so the package is kept in
// <build>/test-deb and built again only when something it holds is newer;
// a lock file serializes test processes running in parallel. Tests skip
// when cpack or dpkg-deb is missing.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace keelson {

class DebPackage : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!testing::HaveProgram("cpack") || !testing::HaveProgram("dpkg-deb")) return;
    have_tools_ = true;
    namespace fs = std::filesystem;
    const std::string out = std::string(KEELSON_BUILD_DIR) + "/test-deb";
    fs::create_directories(out);
    int lock = open((out + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock >= 0) flock(lock, LOCK_EX);
    std::string existing;
    for (const auto& e : fs::directory_iterator(out)) {
      if (e.path().extension() == ".deb") existing = e.path().string();
    }
    if (existing.empty() || NewestInput() > fs::last_write_time(existing)) {
      for (const auto& e : fs::directory_iterator(out)) fs::remove_all(e.path());
      testing::ProcessResult r = testing::RunProgram({"cpack", "-G", "DEB", "-B", out}, "", KEELSON_BUILD_DIR, 300);
      build_log_ = r.out + r.err;
      for (const auto& e : fs::directory_iterator(out)) {
        if (e.path().extension() == ".deb") deb_ = e.path().string();
      }
      // CPack's staging tree holds another copy of the binary; only the
      // package is needed from here on.
      fs::remove_all(out + "/_CPack_Packages");
    } else {
      deb_ = existing;
    }
    if (lock >= 0) close(lock);  // releases the lock
  }
  void SetUp() override {
    if (!have_tools_) GTEST_SKIP() << "cpack or dpkg-deb missing";
    ASSERT_FALSE(deb_.empty()) << build_log_;
  }

  // The newest of the files the package is made of.
  static std::filesystem::file_time_type NewestInput() {
    namespace fs = std::filesystem;
    const std::string src = KEELSON_SOURCE_DIR;
    std::vector<std::string> inputs = {KEELSON_BINARY, std::string(KEELSON_BUILD_DIR) + "/CPackConfig.cmake",
                                       src + "/README.md"};
    for (const char* dir : {"/systemd", "/packaging", "/packaging/debian"}) {
      for (const auto& e : fs::directory_iterator(src + dir)) {
        if (e.is_regular_file()) inputs.push_back(e.path().string());
      }
    }
    fs::file_time_type newest = fs::file_time_type::min();
    for (const std::string& path : inputs) {
      std::error_code ec;
      fs::file_time_type t = fs::last_write_time(path, ec);
      if (!ec) newest = std::max(newest, t);
    }
    return newest;
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

  static inline bool have_tools_ = false;
  static inline std::string deb_;
  static inline std::string build_log_;
};

}  // namespace keelson
