#include "agent/source/webhook.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "agent/source/poller.h"
#include "tests/testing/loopback.h"
#include "tests/testing/temp_dir.h"
#include "tests/unit/agent/server/raw_http.h"
#include "tests/unit/agent/source/git_fixture.h"

namespace keelson::source {
namespace {

using namespace std::chrono_literals;
using server::HttpRequest;

const std::string kSecret = "0123456789abcdef-secret";
const std::string kBody = R"({"ref":"refs/heads/main","after":"abc"})";

HttpRequest Delivery(std::vector<std::pair<std::string, std::string>> headers, std::string body = kBody) {
  HttpRequest r;
  r.method = "POST";
  r.path = "/hooks/app";
  r.headers = std::move(headers);
  r.body = std::move(body);
  return r;
}

TEST(Webhook, HmacMatchesOpenSslCommandLine) {
  // `printf %s BODY | openssl dgst -sha256 -hmac SECRET`
  EXPECT_EQ(HmacSha256Hex("key", "The quick brown fox jumps over the lazy dog"),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
}

TEST(Webhook, AcceptsGoodSignaturesOfEachForgeAndRefusesBadOnes) {
  std::string good = HmacSha256Hex(kSecret, kBody);
  std::string bad = HmacSha256Hex("another-secret-entirely", kBody);
  struct Case {
    WebhookKind kind;
    std::vector<std::pair<std::string, std::string>> good_headers, bad_headers;
  };
  std::vector<Case> cases = {
      {WebhookKind::kGitHub,
       {{"X-Hub-Signature-256", "sha256=" + good}, {"X-GitHub-Event", "push"}},
       {{"X-Hub-Signature-256", "sha256=" + bad}, {"X-GitHub-Event", "push"}}},
      {WebhookKind::kGitLab,
       {{"X-Gitlab-Token", kSecret}, {"X-Gitlab-Event", "Push Hook"}},
       {{"X-Gitlab-Token", kSecret + "x"}, {"X-Gitlab-Event", "Push Hook"}}},
      {WebhookKind::kGitea,
       {{"X-Gitea-Signature", good}, {"X-Gitea-Event", "push"}},
       {{"X-Gitea-Signature", bad}, {"X-Gitea-Event", "push"}}},
      {WebhookKind::kGitea,
       {{"X-Forgejo-Signature", good}, {"X-Forgejo-Event", "push"}},
       {{"X-Forgejo-Signature", good.substr(0, 63)}, {"X-Forgejo-Event", "push"}}},
      {WebhookKind::kGeneric,
       {{"X-Keelson-Signature-256", "sha256=" + good}},
       {{"X-Keelson-Signature-256", good}}},
  };
  for (const Case& c : cases) {
    WebhookSpec spec{"app", c.kind, kSecret};
    WebhookVerdict ok = CheckWebhook(spec, Delivery(c.good_headers));
    EXPECT_EQ(ok.status, 202) << static_cast<int>(c.kind) << ok.message;
    EXPECT_TRUE(ok.trigger);
    WebhookVerdict refused = CheckWebhook(spec, Delivery(c.bad_headers));
    EXPECT_EQ(refused.status, 401) << static_cast<int>(c.kind);
    EXPECT_FALSE(refused.trigger);
    EXPECT_EQ(CheckWebhook(spec, Delivery({})).status, 401);
    // The body is covered by the signature (GitLab's token is not a signature).
    if (c.kind != WebhookKind::kGitLab) {
      EXPECT_EQ(CheckWebhook(spec, Delivery(c.good_headers, kBody + " ")).status, 401);
    }
  }
}

TEST(Webhook, AnswersPingsAndIgnoresOtherEventsWithoutTriggering) {
  WebhookSpec github{"app", WebhookKind::kGitHub, kSecret};
  std::string sig = "sha256=" + HmacSha256Hex(kSecret, kBody);
  WebhookVerdict ping = CheckWebhook(github, Delivery({{"X-Hub-Signature-256", sig}, {"X-GitHub-Event", "ping"}}));
  EXPECT_EQ(ping.status, 200);
  EXPECT_FALSE(ping.trigger);
  WebhookVerdict issue = CheckWebhook(github, Delivery({{"X-Hub-Signature-256", sig}, {"X-GitHub-Event", "issues"}}));
  EXPECT_EQ(issue.status, 202);
  EXPECT_FALSE(issue.trigger);
  WebhookSpec gitlab{"app", WebhookKind::kGitLab, kSecret};
  EXPECT_TRUE(CheckWebhook(gitlab, Delivery({{"X-Gitlab-Token", kSecret}, {"X-Gitlab-Event", "Tag Push Hook"}})).trigger);
  EXPECT_FALSE(CheckWebhook(gitlab, Delivery({{"X-Gitlab-Token", kSecret}, {"X-Gitlab-Event", "Note Hook"}})).trigger);
}

TEST(WebhookReceiver, TriggersOnlyForAuthenticDeliveriesToKnownSources) {
  std::vector<std::string> triggered;
  WebhookReceiver receiver([&](const std::string& s) {
    triggered.push_back(s);
    return true;
  });
  ASSERT_TRUE(receiver.Add({"app", WebhookKind::kGitHub, kSecret}).ok());
  EXPECT_EQ(receiver.Add({"app", WebhookKind::kGitLab, kSecret}).error().where.field, "webhook");
  EXPECT_EQ(receiver.Add({"short", WebhookKind::kGitLab, "tiny"}).error().where.field, "webhook.secret");
  std::string sig = "sha256=" + HmacSha256Hex(kSecret, kBody);
  HttpRequest good = Delivery({{"X-Hub-Signature-256", sig}, {"X-GitHub-Event", "push"}});
  HttpRequest bad = Delivery({{"X-Hub-Signature-256", "sha256=" + std::string(64, '0')}, {"X-GitHub-Event", "push"}});
  HttpRequest unknown = good;
  unknown.path = "/hooks/other";
  EXPECT_EQ(receiver.Handle(bad).status, 401);
  EXPECT_EQ(receiver.Handle(unknown).status, 401);
  EXPECT_TRUE(triggered.empty());
  server::HttpResponse response = receiver.Handle(good);
  EXPECT_EQ(response.status, 202);
  EXPECT_EQ(response.body.find(kSecret), std::string::npos);
  EXPECT_EQ(triggered, std::vector<std::string>{"app"});
  EXPECT_FALSE(ParseWebhookKind("bitbucket").ok());
  EXPECT_EQ(*ParseWebhookKind("forgejo"), WebhookKind::kGitea);
}

// The whole path: a push, a signed GitHub delivery over HTTP, and the new
// commit in the mirror well within a second, while the poll interval is an
// hour.
TEST(WebhookEndToEnd, APushBecomesVisibleInUnderASecond) {
  keelson::testing::TempDir dir;
  std::string upstream = dir.path() + "/app.git";
  std::string work = dir.path() + "/work";
  std::filesystem::create_directories(work);
  testing::InitRepo(work);
  testing::CommitFile(work, "a.txt", "1\n", "first");
  testing::Git(dir.path(), {"init", "-q", "--bare", upstream});
  testing::Git(work, {"push", "-q", upstream, "main"});

  SourceSpec spec;
  spec.name = "app";
  spec.url = "file://" + upstream;
  spec.track = {Tracking::Kind::kBranch, "main"};
  auto mirror = std::make_shared<Mirror>(spec, dir.path() + "/state");
  std::mutex mu;
  std::string seen;
  Poller poller([&](const std::string&, const Result<SyncResult>& r) {
    std::lock_guard<std::mutex> lock(mu);
    if (r.ok()) seen = r->revision;
  });
  ASSERT_TRUE(poller.Add(mirror, std::chrono::hours(1)).ok());
  WebhookReceiver receiver([&](const std::string& source) { return poller.Trigger(source); });
  ASSERT_TRUE(receiver.Add({"app", WebhookKind::kGitHub, kSecret}).ok());
  server::HttpServer http(server::HttpServerOptions{});
  receiver.RegisterOn(http);
  ASSERT_TRUE(http.Start().ok());
  poller.Start();
  auto seen_now = [&] {
    std::lock_guard<std::mutex> lock(mu);
    return seen;
  };
  ASSERT_TRUE(keelson::testing::WaitFor([&] { return !seen_now().empty(); }, 10s));

  std::string pushed = testing::CommitFile(work, "a.txt", "2\n", "second");
  testing::Git(work, {"push", "-q", upstream, "main"});

  // A forged delivery changes nothing.
  server::testing::RawReply forged = server::testing::SendRaw(
      http.port(), server::testing::Post("/hooks/app", kBody,
                                         "X-GitHub-Event: push\r\nX-Hub-Signature-256: sha256=" +
                                             HmacSha256Hex("wrong-secret-wrong-secret", kBody) + "\r\n"));
  EXPECT_EQ(forged.status(), 401);
  EXPECT_EQ(poller.stats("app").triggers, 0u);

  auto start = std::chrono::steady_clock::now();
  server::testing::RawReply reply = server::testing::SendRaw(
      http.port(), server::testing::Post("/hooks/app", kBody,
                                         "X-GitHub-Event: push\r\nX-Hub-Signature-256: sha256=" +
                                             HmacSha256Hex(kSecret, kBody) + "\r\n"));
  EXPECT_EQ(reply.status(), 202) << reply.bytes;
  ASSERT_TRUE(keelson::testing::WaitFor([&] { return seen_now() == pushed; }, 10s));
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, 1s);
  std::cout << "push visible through webhook after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms\n";
  EXPECT_EQ(poller.stats("app").syncs, 2u);
  poller.Stop();
  http.Stop();
}

}  // namespace
}  // namespace keelson::source
