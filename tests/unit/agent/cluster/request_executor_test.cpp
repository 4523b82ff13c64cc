#include "agent/cluster/request_executor.h"

#include <gtest/gtest.h>

#include "tests/unit/agent/cluster/fake_transport.h"

namespace keelson::cluster {
namespace {

using namespace std::chrono_literals;
using testing::Dropped;
using testing::FakeClock;
using testing::FakeTransport;
using testing::Json;
using testing::Reply;

RetryPolicy NoJitter(int attempts = 6) {
  RetryPolicy p;
  p.max_attempts = attempts;
  p.initial_backoff = 100ms;
  p.max_backoff = 1s;
  p.jitter = 0;
  return p;
}

RateLimit Unlimited() { return RateLimit{0, 1}; }

HttpRequest Get(std::string target) {
  HttpRequest r;
  r.target = std::move(target);
  return r;
}

// Replies from a list, one per call.
FakeTransport::Handler Script(std::vector<Reply> replies) {
  auto shared = std::make_shared<std::vector<Reply>>(std::move(replies));
  auto next = std::make_shared<std::size_t>(0);
  return [shared, next](const HttpRequest&) {
    std::size_t i = std::min(*next, shared->size() - 1);
    ++*next;
    return (*shared)[i];
  };
}

TEST(RequestExecutor, RetriesServerErrorsWithExponentialBackoff) {
  FakeTransport transport(Script({Json(500, "{}"), Json(503, "{}"), Json(502, "{}"), Json(200, "ok")}));
  FakeClock clock;
  RequestMetrics metrics;
  RequestExecutor executor(transport, clock, metrics, NoJitter(), Unlimited());
  Result<HttpResponse> r = executor.Execute("get", Get("/x"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(transport.requests().size(), 4u);
  EXPECT_EQ(clock.sleeps(), (std::vector<std::chrono::nanoseconds>{100ms, 200ms, 400ms}));
  EXPECT_EQ(metrics.Count("get", "500"), 1u);
  EXPECT_EQ(metrics.Count("get", "503"), 1u);
  EXPECT_EQ(metrics.Count("get", "200"), 1u);
  EXPECT_EQ(metrics.Total(), 4u);
}

TEST(RequestExecutor, HonoursRetryAfterOn429) {
  FakeTransport transport(Script({Json(429, "{}", {{"Retry-After", "3"}}), Json(200, "ok")}));
  FakeClock clock;
  RequestMetrics metrics;
  RequestExecutor executor(transport, clock, metrics, NoJitter(), Unlimited());
  ASSERT_TRUE(executor.Execute("list", Get("/x")).ok());
  EXPECT_EQ(clock.sleeps(), (std::vector<std::chrono::nanoseconds>{3s}));
  EXPECT_EQ(metrics.Count("list", "429"), 1u);
}

TEST(RequestExecutor, CapsRetryAfter) {
  FakeTransport transport(Script({Json(429, "{}", {{"retry-after", "86400"}}), Json(200, "ok")}));
  FakeClock clock;
  RequestMetrics metrics;
  RetryPolicy policy = NoJitter();
  policy.max_retry_after = 5s;
  RequestExecutor executor(transport, clock, metrics, policy, Unlimited());
  ASSERT_TRUE(executor.Execute("get", Get("/x")).ok());
  EXPECT_EQ(clock.sleeps(), (std::vector<std::chrono::nanoseconds>{5s}));
}

TEST(RequestExecutor, RetriesDroppedConnectionsThenGivesUpClearly) {
  FakeTransport transport(Script({Dropped()}));
  FakeClock clock;
  RequestMetrics metrics;
  RequestExecutor executor(transport, clock, metrics, NoJitter(3), Unlimited());
  Result<HttpResponse> r = executor.Execute("get", Get("/x"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message.find("gave up after 3 attempts"), std::string::npos) << r.error().message;
  EXPECT_EQ(metrics.Count("get", "error"), 3u);
}

TEST(RequestExecutor, ReturnsTheLastResponseWhenRetriesRunOut) {
  FakeTransport transport(Script({Json(503, R"({"message":"overloaded"})")}));
  FakeClock clock;
  RequestMetrics metrics;
  RequestExecutor executor(transport, clock, metrics, NoJitter(2), Unlimited());
  Result<HttpResponse> r = executor.Execute("get", Get("/x"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(transport.requests().size(), 2u);
}

TEST(RequestExecutor, DoesNotRetryClientErrorsOrTlsFailures) {
  FakeTransport transport(Script({Json(409, "{}")}));
  FakeClock clock;
  RequestMetrics metrics;
  RequestExecutor executor(transport, clock, metrics, NoJitter(), Unlimited());
  EXPECT_EQ(executor.Execute("apply", Get("/x"))->status, 409);
  EXPECT_EQ(transport.requests().size(), 1u);

  FakeTransport tls(Script({Reply{MakeError(ErrorCode::kAccessDenied, "certificate verify failed"), {}, {}}}));
  RequestExecutor tls_executor(tls, clock, metrics, NoJitter(), Unlimited());
  Result<HttpResponse> r = tls_executor.Execute("get", Get("/x"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kAccessDenied);
  EXPECT_EQ(tls.requests().size(), 1u);
}

TEST(RequestExecutor, JitterStaysWithinItsFraction) {
  FakeTransport transport(Script({Json(500, "{}"), Json(500, "{}"), Json(500, "{}"), Json(200, "")}));
  FakeClock clock;
  RequestMetrics metrics;
  RetryPolicy policy = NoJitter();
  policy.jitter = 0.5;
  RequestExecutor executor(transport, clock, metrics, policy, Unlimited(), 42);
  ASSERT_TRUE(executor.Execute("get", Get("/x")).ok());
  ASSERT_EQ(clock.sleeps().size(), 3u);
  std::chrono::nanoseconds base = 100ms;
  for (auto sleep : clock.sleeps()) {
    EXPECT_GE(sleep, base);
    EXPECT_LE(sleep, base * 3 / 2);
    base *= 2;
  }
}

TEST(RequestExecutor, RateLimitAllowsBurstThenPacesAtQps) {
  FakeTransport transport(Script({Json(200, "")}));
  FakeClock clock;
  RequestMetrics metrics;
  RequestExecutor executor(transport, clock, metrics, NoJitter(), RateLimit{10, 3});
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(executor.Execute("get", Get("/x")).ok());
  EXPECT_TRUE(clock.sleeps().empty());
  auto before = clock.Now();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(executor.Execute("get", Get("/x")).ok());
  // Five more at 10/s take half a second of (fake) waiting.
  auto waited = clock.Now() - before;
  EXPECT_GE(waited, 499ms);
  EXPECT_LE(waited, 501ms);
}

TEST(RequestExecutor, StreamedCallsAreNotRetriedAfterData) {
  Reply partial = Json(200, "");
  partial.stream = {"{\"a\":1}\n"};
  partial.stream_error = MakeError(ErrorCode::kUnavailable, "dropped");
  FakeTransport transport(Script({partial}));
  FakeClock clock;
  RequestMetrics metrics;
  RequestExecutor executor(transport, clock, metrics, NoJitter(), Unlimited());
  std::string got;
  BodySink sink = [&got](std::string_view chunk) {
    got.append(chunk);
    return true;
  };
  Result<HttpResponse> r = executor.Execute("watch", Get("/x"), &sink);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(transport.requests().size(), 1u);
  EXPECT_EQ(got, "{\"a\":1}\n");
}

TEST(RequestExecutor, ParsesRetryAfter) {
  EXPECT_EQ(ParseRetryAfter("7"), std::chrono::seconds(7));
  EXPECT_EQ(ParseRetryAfter(" 0 "), std::chrono::seconds(0));
  EXPECT_FALSE(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT"));
  EXPECT_FALSE(ParseRetryAfter("-1"));
  EXPECT_FALSE(ParseRetryAfter(""));
}

TEST(SteadyClock, WakeEndsSleeps) {
  SteadyClock clock;
  clock.Wake();
  EXPECT_FALSE(clock.SleepFor(std::chrono::hours(1)));
}

}  // namespace
}  // namespace keelson::cluster
