#include "agent/source/known_hosts.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <fstream>
#include <sstream>

#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace keelson::source {
namespace {

struct Key {
  std::string type, base64, blob;
};

Key MakeKey(const keelson::testing::TempDir& dir, const std::string& name) {
  std::string path = dir.path() + "/" + name;
  keelson::testing::ProcessResult r =
      keelson::testing::RunProgram({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::istringstream in(keelson::testing::ReadFileOrDie(path + ".pub"));
  Key k;
  in >> k.type >> k.base64;
  k.blob.resize(k.base64.size());
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(k.blob.data()),
                          reinterpret_cast<const unsigned char*>(k.base64.data()), static_cast<int>(k.base64.size()));
  k.blob.resize(static_cast<std::size_t>(n) - (k.base64.ends_with("==") ? 2 : k.base64.ends_with("=") ? 1 : 0));
  return k;
}

class KnownHostsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    a_ = MakeKey(dir_, "a");
    b_ = MakeKey(dir_, "b");
  }
  KnownHosts Parse(const std::string& text) {
    Result<KnownHosts> hosts = KnownHosts::Parse(text, "known_hosts");
    EXPECT_TRUE(hosts.ok()) << hosts.error().ToString();
    return std::move(*hosts);
  }
  keelson::testing::TempDir dir_;
  Key a_, b_;
};

TEST_F(KnownHostsTest, AcceptsTheListedKeyForTheHostAndPort) {
  KnownHosts hosts = Parse("git.example.com " + a_.type + " " + a_.base64 + "\n[git.example.com]:2222 " + b_.type +
                           " " + b_.base64 + " comment\n");
  EXPECT_TRUE(hosts.Check("git.example.com", 22, a_.type, a_.blob).ok());
  EXPECT_TRUE(hosts.Check("GIT.example.com", 22, a_.type, a_.blob).ok());
  EXPECT_TRUE(hosts.Check("git.example.com", 2222, b_.type, b_.blob).ok());
  Status changed = hosts.Check("git.example.com", 2222, a_.type, a_.blob);
  ASSERT_FALSE(changed.ok());
  EXPECT_EQ(changed.error().code, ErrorCode::kAccessDenied);
  EXPECT_NE(changed.error().message.find("does not match"), std::string::npos);
  Status unknown = hosts.Check("other.example.com", 22, a_.type, a_.blob);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("not in known_hosts"), std::string::npos);
}

TEST_F(KnownHostsTest, MatchesWildcardsNegationsAndHashedNamesMadeBySshKeygen) {
  KnownHosts hosts = Parse("*.example.com,!evil.example.com " + a_.type + " " + a_.base64 + "\n");
  EXPECT_TRUE(hosts.Check("git.example.com", 22, a_.type, a_.blob).ok());
  EXPECT_FALSE(hosts.Check("evil.example.com", 22, a_.type, a_.blob).ok());
  EXPECT_FALSE(hosts.Check("example.org", 22, a_.type, a_.blob).ok());

  std::string file = dir_.Write("hashed", "[10.0.0.7]:2200 " + b_.type + " " + b_.base64 + "\n");
  keelson::testing::ProcessResult r = keelson::testing::RunProgram({"ssh-keygen", "-q", "-H", "-f", file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string hashed_text = keelson::testing::ReadFileOrDie(file);
  ASSERT_TRUE(hashed_text.starts_with("|1|")) << hashed_text;
  Result<KnownHosts> hashed = KnownHosts::Load(file);
  ASSERT_TRUE(hashed.ok()) << hashed.error().ToString();
  EXPECT_TRUE(hashed->Check("10.0.0.7", 2200, b_.type, b_.blob).ok());
  EXPECT_FALSE(hashed->Check("10.0.0.7", 22, b_.type, b_.blob).ok());
}

TEST_F(KnownHostsTest, RefusesRevokedKeysAndReportsMalformedLines) {
  KnownHosts hosts = Parse("@revoked * " + a_.type + " " + a_.base64 + "\ngit.example.com " + a_.type + " " +
                           a_.base64 + "\n@cert-authority ca.example.com " + b_.type + " " + b_.base64 + "\n");
  Status revoked = hosts.Check("git.example.com", 22, a_.type, a_.blob);
  ASSERT_FALSE(revoked.ok());
  EXPECT_NE(revoked.error().message.find("@revoked"), std::string::npos);
  Status ca_only = hosts.Check("ca.example.com", 22, b_.type, b_.blob);
  ASSERT_FALSE(ca_only.ok());
  EXPECT_NE(ca_only.error().message.find("@cert-authority"), std::string::npos);

  Result<KnownHosts> bad = KnownHosts::Parse("# ok\nhost ssh-ed25519 !!!notbase64\n", "kh");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().where.line, 2);
  EXPECT_FALSE(KnownHosts::Parse("host ssh-rsa " + a_.base64 + "\n", "kh").ok());  // type does not match the blob
  EXPECT_FALSE(KnownHosts::Parse("@bogus host " + a_.type + " " + a_.base64 + "\n", "kh").ok());
  EXPECT_EQ(KnownHosts::Load(dir_.path() + "/missing").error().code, ErrorCode::kNotFound);
}

TEST(WildcardMatch, HandlesStarsAndQuestionMarksWithoutBlowingUp) {
  EXPECT_TRUE(WildcardMatch("*.example.com", "a.b.example.com"));
  EXPECT_TRUE(WildcardMatch("git?.example.com", "git1.example.com"));
  EXPECT_FALSE(WildcardMatch("git?.example.com", "git.example.com"));
  EXPECT_TRUE(WildcardMatch("*", ""));
  EXPECT_FALSE(WildcardMatch(std::string(50, '*') + "b", std::string(5000, 'a')));
}

}  // namespace
}  // namespace keelson::source
