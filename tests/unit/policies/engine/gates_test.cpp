// Change gates with an injected clock: cron schedules, window boundaries,
// time zones and DST, overrides, approvals, promotion, concurrency locks,
// and the gate configuration format.
#include "policies/engine/gates.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "policies/engine/locks.h"
#include "renderers/manifest/yaml.h"

namespace keelson::policy {
namespace {

std::int64_t Utc(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
  return DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

ZoneDatabase& Zones() {
  static ZoneDatabase db;
  return db;
}

std::shared_ptr<const TimeZone> Zone(std::string_view name) { return *Zones().Get(name); }

CronSchedule Cron(std::string_view spec) {
  Result<CronSchedule> s = CronSchedule::Parse(spec);
  EXPECT_TRUE(s.ok()) << spec << ": " << (s.ok() ? "" : s.error().message);
  return s.ok() ? *s : CronSchedule();
}

std::string CronError(std::string_view spec) {
  Result<CronSchedule> s = CronSchedule::Parse(spec);
  return s.ok() ? "parsed" : std::to_string(s.error().where.column) + ": " + s.error().message;
}

TEST(Cron, ParseErrorsNameFieldAndColumn) {
  EXPECT_EQ(CronError("* * * *"), "1: a schedule has 5 fields (minute hour day-of-month month day-of-week), found 4");
  EXPECT_EQ(CronError("0 24 * * *"), "3: hour value 24 is out of range 0-23");
  EXPECT_EQ(CronError("0 9 * * mon-fry"), "13: expected a day of week value, found \"fry\"");
  EXPECT_EQ(CronError("0 9-5 * * *"), "3: hour range 9-5 runs backwards");
  EXPECT_EQ(CronError("*/0 * * * *"), "3: invalid step in minute field");
  EXPECT_EQ(CronError("0 9 * * 1;2"), "10: unexpected \";\" in day of week field");
  EXPECT_EQ(CronError("@fortnightly"), "1: unknown macro \"@fortnightly\"");
  EXPECT_EQ(CronError("0 0 0 * *"), "5: day of month value 0 is out of range 1-31");
}

TEST(Cron, FieldsMatchWallClockTime) {
  CronSchedule weekdays = Cron("0 9 * * MON-fri");
  CivilTime t = Zone("UTC")->ToCivil(Utc(2026, 3, 30, 9, 0));  // a Monday
  EXPECT_TRUE(weekdays.Matches(t));
  t = Zone("UTC")->ToCivil(Utc(2026, 3, 29, 9, 0));  // a Sunday
  EXPECT_FALSE(weekdays.Matches(t));
  EXPECT_TRUE(Cron("*/15 * * * *").Matches(Zone("UTC")->ToCivil(Utc(2026, 1, 1, 3, 45))));
  EXPECT_FALSE(Cron("*/15 * * * *").Matches(Zone("UTC")->ToCivil(Utc(2026, 1, 1, 3, 46))));
  EXPECT_TRUE(Cron("5/20 * * * *").Matches(Zone("UTC")->ToCivil(Utc(2026, 1, 1, 3, 45))));
  EXPECT_TRUE(Cron("0 0 * * 7").Matches(Zone("UTC")->ToCivil(Utc(2026, 3, 29))));  // 7 is Sunday
  EXPECT_TRUE(Cron("@monthly").Matches(Zone("UTC")->ToCivil(Utc(2026, 5, 1))));
  EXPECT_TRUE(Cron("0 0 * DEC *").Matches(Zone("UTC")->ToCivil(Utc(2026, 12, 9))));
  // Both day fields restricted: either matches (the 13th, or any Friday).
  CronSchedule either = Cron("0 0 13 * 5");
  EXPECT_TRUE(either.Matches(Zone("UTC")->ToCivil(Utc(2026, 4, 13))));   // a Monday the 13th
  EXPECT_TRUE(either.Matches(Zone("UTC")->ToCivil(Utc(2026, 4, 17))));   // a Friday
  EXPECT_FALSE(either.Matches(Zone("UTC")->ToCivil(Utc(2026, 4, 14))));
}

TEST(Cron, NextAndPreviousFire) {
  const TimeZone& utc = *Zone("UTC");
  CronSchedule s = Cron("30 14 * * *");
  EXPECT_EQ(s.NextFire(utc, Utc(2026, 1, 1, 14, 30), Utc(2027, 1, 1)), Utc(2026, 1, 1, 14, 30));
  EXPECT_EQ(s.NextFire(utc, Utc(2026, 1, 1, 14, 30, 1), Utc(2027, 1, 1)), Utc(2026, 1, 2, 14, 30));
  EXPECT_EQ(s.PreviousFire(utc, Utc(2026, 1, 2, 14, 29), Utc(2025, 1, 1)), Utc(2026, 1, 1, 14, 30));
  EXPECT_EQ(s.NextFire(utc, Utc(2026, 1, 1), Utc(2026, 1, 1, 12)), std::nullopt);
  EXPECT_EQ(Cron("0 0 29 2 *").NextFire(utc, Utc(2026, 1, 1), Utc(2029, 1, 1)), Utc(2028, 2, 29));
}

TEST(Cron, DaylightSavingGapAndRepeat) {
  const TimeZone& berlin = *Zone("Europe/Berlin");
  CronSchedule s = Cron("30 2 * * *");
  // 2026-03-29 has no 02:30 in Berlin: the next firing is a day later.
  EXPECT_EQ(s.NextFire(berlin, Utc(2026, 3, 28, 2), Utc(2026, 4, 30)), Utc(2026, 3, 30, 0, 30));
  // 2026-10-25 has 02:30 twice, in CEST (00:30 UTC) and in CET (01:30 UTC).
  std::optional<std::int64_t> first = s.NextFire(berlin, Utc(2026, 10, 24, 12), Utc(2026, 11, 30));
  EXPECT_EQ(first, Utc(2026, 10, 25, 0, 30));
  EXPECT_EQ(s.NextFire(berlin, *first + 60, Utc(2026, 11, 30)), Utc(2026, 10, 25, 1, 30));
  EXPECT_EQ(s.PreviousFire(berlin, Utc(2026, 10, 25, 1, 10), Utc(2026, 10, 1)), Utc(2026, 10, 25, 0, 30));
}

// Weekdays 09:00-17:00 Berlin time, for prod.
ChangeWindow BusinessHours() {
  ChangeWindow w;
  w.name = "business-hours";
  w.kind = ChangeWindow::Kind::kAllow;
  w.schedule = Cron("0 9 * * 1-5");
  w.duration_seconds = 8 * 3600;
  w.zone = Zone("Europe/Berlin");
  w.environments = {"prod"};
  return w;
}

ChangeRequest Change(std::string env = "prod", std::string unit = "web") {
  ChangeRequest c;
  c.environment = std::move(env);
  c.unit = std::move(unit);
  c.revision = "0123456789abcdef0123456789abcdef01234567";
  c.commits.push_back({"aaaaaaaaaaaaaaaa", "alice@example.com", {}});
  c.changed_paths = {"envs/prod/web/deployment.yaml"};
  return c;
}

TEST(Windows, AllowWindowBoundariesInItsTimeZone) {
  GateConfig config;
  config.windows.push_back(BusinessHours());
  ManualClock clock;
  GateEvaluator gates(config, clock, nullptr);
  // Monday 2026-03-30 is CEST (UTC+2): the window is 07:00-15:00 UTC.
  clock.Set(Utc(2026, 3, 30, 6, 59, 59));
  Decision d = gates.EvaluateWindows(Change());
  EXPECT_EQ(d.verdict, Verdict::kDeny);
  ASSERT_EQ(d.reasons.size(), 1u);
  EXPECT_EQ(d.reasons[0].message,
            "outside the allowed change windows (business-hours); business-hours opens at 2026-03-30T09:00:00+02:00 CEST");
  EXPECT_TRUE(d.may_pass_later());
  EXPECT_EQ(d.retry_at(), Utc(2026, 3, 30, 7));

  clock.Set(Utc(2026, 3, 30, 7));
  d = gates.EvaluateWindows(Change());
  EXPECT_EQ(d.verdict, Verdict::kAllow);
  EXPECT_EQ(d.reasons[0].message, "inside change window business-hours until 2026-03-30T17:00:00+02:00 CEST");

  clock.Set(Utc(2026, 3, 30, 14, 59, 59));
  EXPECT_EQ(gates.EvaluateWindows(Change()).verdict, Verdict::kAllow);
  clock.Set(Utc(2026, 3, 30, 15));
  d = gates.EvaluateWindows(Change());
  EXPECT_EQ(d.verdict, Verdict::kDeny);
  EXPECT_EQ(d.retry_at(), Utc(2026, 3, 31, 7));

  // Friday evening waits for Monday.
  clock.Set(Utc(2026, 4, 3, 16));
  EXPECT_EQ(gates.EvaluateWindows(Change()).retry_at(), Utc(2026, 4, 6, 7));
  // The window is for prod only.
  EXPECT_EQ(gates.EvaluateWindows(Change("staging")).verdict, Verdict::kAllow);
  EXPECT_TRUE(gates.EvaluateWindows(Change("staging")).reasons.empty());
}

TEST(Windows, OpeningMovesWithDaylightSavingTime) {
  GateConfig config;
  config.windows.push_back(BusinessHours());
  ManualClock clock;
  GateEvaluator gates(config, clock, nullptr);
  // Friday 2026-03-27 is still CET: 09:00 local is 08:00 UTC.
  clock.Set(Utc(2026, 3, 27, 7, 30));
  EXPECT_EQ(gates.EvaluateWindows(Change()).retry_at(), Utc(2026, 3, 27, 8));
  clock.Set(Utc(2026, 3, 27, 15, 59));  // 16:59 CET: still inside
  EXPECT_EQ(gates.EvaluateWindows(Change()).verdict, Verdict::kAllow);
  // After the weekend's change to CEST it opens at 07:00 UTC.
  clock.Set(Utc(2026, 3, 27, 16));
  EXPECT_EQ(gates.EvaluateWindows(Change()).retry_at(), Utc(2026, 3, 30, 7));
  // A window that spans the change itself: durations are elapsed time, so
  // Sunday 00:00 CET plus 4 hours ends at 05:00 CEST that night.
  ChangeWindow night;
  night.name = "night";
  night.kind = ChangeWindow::Kind::kDeny;
  night.schedule = Cron("0 0 * * 0");
  night.duration_seconds = 4 * 3600;
  night.zone = Zone("Europe/Berlin");
  GateConfig freeze;
  freeze.windows.push_back(night);
  GateEvaluator frozen(freeze, clock, nullptr);
  clock.Set(Utc(2026, 3, 29, 1, 30));  // 03:30 CEST
  Decision d = frozen.EvaluateWindows(Change());
  EXPECT_EQ(d.verdict, Verdict::kDeny);
  EXPECT_EQ(d.retry_at(), Utc(2026, 3, 29, 3));  // 23:00 UTC + 4 h
  EXPECT_EQ(d.reasons[0].message, "change freeze night (0 0 * * 0, Europe/Berlin) is in effect until 2026-03-29T05:00:00+02:00 CEST");
}

TEST(Windows, FreezeWithOverrides) {
  ChangeWindow freeze;
  freeze.name = "holidays";
  freeze.kind = ChangeWindow::Kind::kDeny;
  freeze.schedule = Cron("0 0 24 12 *");
  freeze.duration_seconds = 3 * 86400;
  freeze.zone = Zone("America/New_York");
  GateConfig config;
  config.windows.push_back(freeze);
  config.override_rule.signers = {"oncall@example.com"};
  ManualClock clock(Utc(2026, 12, 25, 12));
  GateEvaluator gates(config, clock, nullptr);

  Decision d = gates.EvaluateWindows(Change());
  EXPECT_EQ(d.verdict, Verdict::kDeny);
  EXPECT_EQ(d.reasons[0].message,
            "change freeze holidays (0 0 24 12 *, America/New_York) is in effect until 2026-12-27T00:00:00-05:00 EST");
  EXPECT_EQ(d.retry_at(), Utc(2026, 12, 27, 5));
  // Before and after.
  clock.Set(Utc(2026, 12, 24, 4, 59, 59));
  EXPECT_EQ(gates.EvaluateWindows(Change()).verdict, Verdict::kAllow);
  clock.Set(Utc(2026, 12, 27, 5));
  EXPECT_EQ(gates.EvaluateWindows(Change()).verdict, Verdict::kAllow);
  clock.Set(Utc(2026, 12, 25, 12));

  ChangeRequest c = Change();
  c.commits.push_back({"bbbbbbbbbbbbbbbbbb", "oncall@example.com", {{"keelson-override", " payment outage INC-42 "}}});
  d = gates.EvaluateWindows(c);
  EXPECT_EQ(d.verdict, Verdict::kWarn);
  EXPECT_NE(d.reasons[0].message.find("(overridden by oncall@example.com in bbbbbbbbbbbb: payment outage INC-42)"),
            std::string::npos)
      << d.reasons[0].message;

  // Someone who may not override.
  c.commits.back().signer = "intern@example.com";
  d = gates.EvaluateWindows(c);
  EXPECT_EQ(d.verdict, Verdict::kDeny);
  EXPECT_NE(d.reasons[0].message.find("is ignored because intern@example.com may not override change windows"),
            std::string::npos);
  // Unsigned.
  c.commits.back().signer = "";
  d = gates.EvaluateWindows(c);
  EXPECT_EQ(d.verdict, Verdict::kDeny);
  EXPECT_NE(d.reasons[0].message.find("is ignored because the commit is not signed by a trusted key"), std::string::npos);
  // An override on an older commit does not cover newer ones.
  c.commits.back().signer = "oncall@example.com";
  c.commits.push_back({"cccccccccccc", "alice@example.com", {}});
  EXPECT_EQ(gates.EvaluateWindows(c).verdict, Verdict::kDeny);
}

TEST(Approvals, DistinctAllowedSignersAndAttestedTrailers) {
  GateConfig config;
  ApprovalRule rule;
  rule.name = "prod-two-person";
  rule.paths = {"envs/prod/**"};
  rule.required = 2;
  rule.approvers = {"alice@example.com", "bob@example.com", "carol@example.com"};
  rule.attesters = {"merge-bot@example.com"};
  config.approvals.push_back(rule);
  ManualClock clock;
  GateEvaluator gates(config, clock, nullptr);

  ChangeRequest c = Change();
  c.commits = {{"a1", "alice@example.com", {}}, {"a2", "alice@example.com", {}}};
  Decision d = gates.EvaluateApprovals(c);
  EXPECT_EQ(d.verdict, Verdict::kDeny);
  EXPECT_EQ(d.reasons[0].message,
            "needs 2 distinct approvers for changes to envs/prod/web/deployment.yaml, found 1 (alice@example.com)");
  EXPECT_FALSE(d.may_pass_later());

  c.commits.push_back({"b1", "bob@example.com", {}});
  d = gates.EvaluateApprovals(c);
  EXPECT_EQ(d.verdict, Verdict::kAllow);
  EXPECT_EQ(d.reasons[0].message, "approved by alice@example.com, bob@example.com");

  // Alice cannot approve on Bob's behalf.
  c.commits = {{"a1", "alice@example.com", {{"Approved-by", "bob@example.com"}}}};
  EXPECT_EQ(gates.EvaluateApprovals(c).verdict, Verdict::kDeny);
  // Unsigned commits and unknown signers count for nothing.
  c.commits = {{"u1", "", {{"Approved-by", "bob@example.com"}}}, {"m1", "mallory@example.com", {}},
               {"a1", "alice@example.com", {}}};
  EXPECT_EQ(gates.EvaluateApprovals(c).verdict, Verdict::kDeny);
  // The merge bot records reviews; names in "Name <email>" form are read.
  c.commits = {{"a1", "alice@example.com", {}},
               {"m1", "merge-bot@example.com", {{"Approved-by", "Carol <carol@example.com>"}, {"Approved-by", "x@y"}}}};
  d = gates.EvaluateApprovals(c);
  EXPECT_EQ(d.verdict, Verdict::kAllow);
  EXPECT_EQ(d.reasons[0].message, "approved by alice@example.com, carol@example.com");

  // Changes elsewhere need no approval.
  c.changed_paths = {"envs/staging/web/deployment.yaml"};
  EXPECT_TRUE(gates.EvaluateApprovals(c).reasons.empty());
}

TEST(Approvals, PathGlobs) {
  EXPECT_TRUE(PathGlobMatch("envs/prod/**", "envs/prod/a/b.yaml"));
  EXPECT_TRUE(PathGlobMatch("envs/prod/**", "envs/prod"));
  EXPECT_FALSE(PathGlobMatch("envs/prod/**", "envs/production/a.yaml"));
  EXPECT_TRUE(PathGlobMatch("envs/*/db.yaml", "envs/prod/db.yaml"));
  EXPECT_FALSE(PathGlobMatch("envs/*/db.yaml", "envs/prod/x/db.yaml"));
  EXPECT_TRUE(PathGlobMatch("**/secrets/*.yaml", "a/b/secrets/s.yaml"));
  EXPECT_TRUE(PathGlobMatch("**", "anything/at/all"));
}

class FakeHistory : public HealthHistory {
 public:
  Result<bool> WasHealthy(std::string_view revision, std::string_view environment) const override {
    if (fail) return MakeError(ErrorCode::kUnavailable, "audit branch unreadable");
    return healthy.count(std::string(revision) + "@" + std::string(environment)) != 0;
  }
  std::set<std::string> healthy;
  bool fail = false;
};

TEST(Promotion, NeedsHealthUpstream) {
  GateConfig config;
  config.promotions.push_back({"staging-first", {"prod"}, {}, "staging"});
  ManualClock clock;
  FakeHistory history;
  GateEvaluator gates(config, clock, &history);
  ChangeRequest c = Change();
  Decision d = gates.EvaluatePromotion(c);
  EXPECT_EQ(d.verdict, Verdict::kDeny);
  EXPECT_EQ(d.reasons[0].message, "revision 0123456789ab has not been recorded healthy in staging");
  EXPECT_EQ(d.reasons[0].retry, RetryWhen::kPromoted);
  EXPECT_TRUE(d.may_pass_later());
  EXPECT_EQ(d.retry_at(), std::nullopt);
  history.healthy.insert(c.revision + "@staging");
  EXPECT_EQ(gates.EvaluatePromotion(c).verdict, Verdict::kAllow);
  history.fail = true;
  d = gates.EvaluatePromotion(c);
  EXPECT_EQ(d.reasons[0].message, "could not read the health history of staging: audit branch unreadable");
  EXPECT_EQ(d.reasons[0].retry, RetryWhen::kAgain);
  EXPECT_TRUE(gates.EvaluatePromotion(Change("staging")).reasons.empty());
  GateEvaluator blind(config, clock, nullptr);
  EXPECT_EQ(blind.EvaluatePromotion(c).verdict, Verdict::kDeny);
}

TEST(Decisions, EveryReasonAndWhetherItMayPassLater) {
  GateConfig config;
  config.windows.push_back(BusinessHours());
  config.promotions.push_back({"staging-first", {"prod"}, {}, "staging"});
  ManualClock clock(Utc(2026, 3, 30, 6));
  FakeHistory history;
  GateEvaluator gates(config, clock, &history);
  Decision d = gates.Evaluate(Change());
  EXPECT_EQ(d.verdict, Verdict::kDeny);
  EXPECT_EQ(d.reasons.size(), 2u);
  EXPECT_TRUE(d.may_pass_later());
  EXPECT_EQ(d.retry_at(), Utc(2026, 3, 30, 7));
  EXPECT_EQ(d.Summary(),
            "deny window/business-hours: outside the allowed change windows (business-hours); business-hours opens at "
            "2026-03-30T09:00:00+02:00 CEST\n"
            "deny promotion/staging-first: revision 0123456789ab has not been recorded healthy in staging\n");
  // A policy violation needs a new commit, whatever else happens.
  d.Add(Reason{"policy", "no-latest-tag", Verdict::kDeny, "Deployment web uses nginx:latest", RetryWhen::kNever, {}});
  EXPECT_FALSE(d.may_pass_later());
  EXPECT_EQ(d.retry_at(), std::nullopt);
  // The same revision passes once the window opens and staging is healthy.
  clock.Set(Utc(2026, 3, 30, 7));
  history.healthy.insert(Change().revision + "@staging");
  EXPECT_EQ(gates.Evaluate(Change()).verdict, Verdict::kAllow);
}

TEST(Locks, ConcurrencyLimitAndNamedLocks) {
  RolloutLocks table(2);
  RolloutLocks::Attempt a = table.TryAcquire("payments", {"db-main"});
  ASSERT_TRUE(a.acquired);
  RolloutLocks::Attempt b = table.TryAcquire("billing", {"db-main", "queue"});
  EXPECT_FALSE(b.acquired);
  EXPECT_EQ(b.reason.verdict, Verdict::kDeny);
  EXPECT_EQ(b.reason.retry, RetryWhen::kLockReleased);
  EXPECT_EQ(b.reason.message, "lock db-main is held by unit payments");
  // All or nothing: billing did not keep "queue".
  RolloutLocks::Attempt c = table.TryAcquire("search", {"queue"});
  EXPECT_TRUE(c.acquired);
  RolloutLocks::Attempt d = table.TryAcquire("web", {});
  EXPECT_FALSE(d.acquired);
  EXPECT_EQ(d.reason.message, "2 units are rolling out (payments, search), the limit is 2");
  EXPECT_FALSE(table.TryAcquire("payments", {}).acquired);  // already rolling out
  a.lease.Release();
  EXPECT_TRUE(table.TryAcquire("billing", {"db-main"}).acquired);  // released again at once (temporary)
  RolloutLease moved = std::move(c.lease);
  EXPECT_FALSE(c.lease.held());
  EXPECT_TRUE(moved.held());
  EXPECT_EQ(table.Snapshot().size(), 1u);
  { RolloutLease gone = std::move(moved); }
  EXPECT_TRUE(table.Snapshot().empty());
}

TEST(Locks, NeverTwoHoldersUnderContention) {
  RolloutLocks table;
  std::atomic<int> holders{0}, max_seen{0}, acquired{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        RolloutLocks::Attempt a = table.TryAcquire("unit-" + std::to_string(t), {"db"});
        if (!a.acquired) continue;
        int now = ++holders;
        int prev = max_seen.load();
        while (now > prev && !max_seen.compare_exchange_weak(prev, now)) {
        }
        ++acquired;
        --holders;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(max_seen.load(), 1);
  EXPECT_GT(acquired.load(), 0);
}

TEST(GateConfigFile, ParsesAndReportsErrors) {
  auto parse = [](std::string_view yaml) -> Result<GateConfig> {
    manifest::ParseOptions o;
    o.file = "gates.yaml";
    Result<manifest::Node> node = manifest::ParseYaml(yaml, o);
    if (!node.ok()) return std::move(node).error();
    return ParseGateConfig(*node, "gates.yaml", Zones());
  };
  Result<GateConfig> ok = parse(R"(windows:
- name: business-hours
  kind: allow
  schedule: "0 9 * * 1-5"
  duration: 8h
  timeZone: Europe/Berlin
  environments: [prod]
- name: holidays
  kind: deny
  schedule: "0 0 24 12 *"
  duration: 3d
  timeZone: America/New_York
override:
  signers: [oncall@example.com]
approvals:
- name: prod-two-person
  paths: [envs/prod/**]
  required: 2
  approvers: [alice@example.com, bob@example.com]
promotions:
- name: staging-first
  environments: [prod]
  after: staging
)");
  ASSERT_TRUE(ok.ok()) << ok.error().ToString();
  ASSERT_EQ(ok->windows.size(), 2u);
  EXPECT_EQ(ok->windows[0].duration_seconds, 8 * 3600);
  EXPECT_EQ(ok->windows[1].zone->name(), "America/New_York");
  EXPECT_EQ(ok->override_rule.trailer, "Keelson-Override");
  EXPECT_EQ(ok->approvals[0].required, 2);
  EXPECT_EQ(ok->promotions[0].after, "staging");

  auto error = [&](std::string_view yaml) {
    Result<GateConfig> r = parse(yaml);
    return r.ok() ? "parsed" : r.error().ToString();
  };
  EXPECT_EQ(error("windows:\n- name: w\n  schedule: 0 25 * * *\n  duration: 1h\n"),
            "gates.yaml:3:15: windows[0].schedule: hour value 25 is out of range 0-23");
  EXPECT_EQ(error("windows:\n- name: w\n  schedule: '@daily'\n  duration: 1y\n"),
            "gates.yaml:4:13: windows[0].duration: must be a duration such as 30m, 8h or 2d");
  EXPECT_EQ(error("windows:\n- name: w\n  schedule: '@daily'\n  duration: 40d\n"),
            "gates.yaml:4:13: windows[0].duration: must be at most 31d");
  EXPECT_EQ(error("windows:\n- name: w\n  schedule: '@daily'\n  duration: 1h\n  timeZone: Europe/Atlantis\n"),
            "gates.yaml:5:13: windows[0].timeZone: unknown time zone \"Europe/Atlantis\"");
  EXPECT_EQ(error("windows:\n- name: w\n  duration: 1h\n"), "gates.yaml:2:3: windows[0].schedule: is required");
  EXPECT_EQ(error("approvals:\n- name: a\n  required: 0\n  approvers: [x]\n"),
            "gates.yaml:3:13: approvals[0].required: must be a whole number from 1 to 100");
  EXPECT_EQ(error("promotions:\n- name: p\n"), "gates.yaml:2:3: promotions[0].after: is required");
  EXPECT_EQ(error("freezes: []\n"),
            "gates.yaml:1:10: freezes: unknown field (expected windows, override, approvals, promotions or "
            "concurrency)");
  EXPECT_EQ(error("concurrency: {maxUnits: -1}\n"),
            "gates.yaml:1:25: concurrency.maxUnits: must be a whole number from 0 (no limit) to 10000");
  EXPECT_EQ(error("concurrency:\n  locks:\n  - name: db\n"), "gates.yaml:3:5: concurrency.locks[0].units: must list at least one unit");
  EXPECT_EQ(error("concurrency:\n  locks:\n  - {name: db, units: [a]}\n  - {name: db, units: [b]}\n"),
            "gates.yaml:4:5: concurrency.locks[1].name: \"db\" is used twice");
}

TEST(GateConfigFile, ConcurrencyNamesTheLocksEachUnitTakes) {
  manifest::ParseOptions o;
  o.file = "gates.yaml";
  Result<manifest::Node> node = manifest::ParseYaml(
      "concurrency:\n  maxUnits: 2\n  locks:\n  - {name: orders-db, units: [orders, billing]}\n"
      "  - {name: queue, units: ['billing*', worker]}\n",
      o);
  ASSERT_TRUE(node.ok());
  Result<GateConfig> config = ParseGateConfig(*node, "gates.yaml", Zones());
  ASSERT_TRUE(config.ok()) << config.error().ToString();
  ASSERT_TRUE(config->concurrency.has_value());
  EXPECT_EQ(config->concurrency->max_units, 2u);
  EXPECT_EQ(LocksFor(*config->concurrency, "billing"), (std::vector<std::string>{"orders-db", "queue"}));
  EXPECT_EQ(LocksFor(*config->concurrency, "orders"), (std::vector<std::string>{"orders-db"}));
  EXPECT_TRUE(LocksFor(*config->concurrency, "web").empty());
}

}  // namespace
}  // namespace keelson::policy
