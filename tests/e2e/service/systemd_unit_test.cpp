// Checks the shipped systemd unit with systemd's own tools.
#include <gtest/gtest.h>

#include <cstdlib>

#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace keelson {
namespace {

std::string UnitWithBuiltBinary() {
  std::string unit = testing::ReadFileOrDie(std::string(KEELSON_SOURCE_DIR) + "/systemd/keelson.service");
  std::size_t at = unit.find("/usr/bin/keelson");
  EXPECT_NE(at, std::string::npos);
  unit.replace(at, std::string("/usr/bin/keelson").size(), KEELSON_BINARY);
  return unit;
}

TEST(SystemdUnit, VerifiesClean) {
  if (!testing::HaveProgram("systemd-analyze")) GTEST_SKIP() << "systemd-analyze not installed";
  testing::TempDir dir;
  std::string path = dir.Write("keelson.service", UnitWithBuiltBinary());
  testing::ProcessResult r = testing::RunProgram({"systemd-analyze", "verify", path});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.err.find("keelson.service:"), std::string::npos) << r.err;
}

TEST(SystemdUnit, SecurityExposureIsOkOrBetter) {
  if (!testing::HaveProgram("systemd-analyze")) GTEST_SKIP() << "systemd-analyze not installed";
  testing::ProcessResult r = testing::RunProgram(
      {"systemd-analyze", "security", "--offline=true", std::string(KEELSON_SOURCE_DIR) + "/systemd/keelson.service"});
  std::string all = r.out + r.err;
  const std::string label = "Overall exposure level for keelson.service: ";
  std::size_t at = all.find(label);
  ASSERT_NE(at, std::string::npos) << all;
  double exposure = std::strtod(all.c_str() + at + label.size(), nullptr);
  EXPECT_LE(exposure, 3.0) << all;
}

TEST(SystemdUnit, HasTheContractedSettings) {
  std::string unit = testing::ReadFileOrDie(std::string(KEELSON_SOURCE_DIR) + "/systemd/keelson.service");
  for (const char* line : {"Type=notify", "Restart=on-failure", "WatchdogSec=", "StateDirectory=keelson",
                           "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "NoNewPrivileges=yes",
                           "CapabilityBoundingSet=\n", "RestrictAddressFamilies=", "SystemCallFilter=@system-service",
                           "ReadWritePaths=/var/lib/keelson", "User=keelson"}) {
    EXPECT_NE(unit.find(line), std::string::npos) << line;
  }
}

}  // namespace
}  // namespace keelson
