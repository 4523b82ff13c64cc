// The record schema: every kind round-trips, validation names the field,
// and no secret value can reach a record.
#include "agent/audit/record.h"

#include <gtest/gtest.h>

#include "renderers/manifest/yaml.h"
#include "tests/testing/temp_dir.h"
#include "tests/unit/agent/audit/audit_test_support.h"

namespace keelson::audit {
namespace {

using testing_support::AppliedHealthy;
using testing_support::Revision;

Record Make(RecordBody body, std::uint64_t seq = 1, std::string previous = "") {
  Record r;
  r.seq = seq;
  r.previous_id = std::move(previous);
  r.environment = "prod";
  r.agent = "agent-1";
  r.time = "2026-11-27T10:00:00.000Z";
  r.body = std::move(body);
  r.id = ComputeRecordId(r);
  return r;
}

std::vector<RecordBody> EveryKind() {
  ReconcileFinished denied = AppliedHealthy(Revision(2), 1);
  denied.outcome = "denied";
  denied.policy.push_back({"no-latest-tag", "apps/v1/Deployment/prod/web", "deny", "image uses :latest"});
  return {
      AgentStarted{"0.1.0", "node-1", "SHA256:abc", std::string(64, 'b')},
      AgentStopped{"SIGTERM"},
      ReconcileStarted{"r-1", "https://git.example.com/deploy.git", "refs/heads/main", Revision(1), Revision(0xa),
                       "webhook"},
      AppliedHealthy(Revision(1), 3),
      denied,
      Rollback{"r-1", Revision(1), Revision(0xa), "health timeout", "succeeded", 9000},
      DriftDetected{{{"apps/v1/Deployment/prod/web", {"spec.replicas"}}}},
      DriftCorrected{"r-2", {{"apps/v1/Deployment/prod/web", {"spec.replicas"}}}},
  };
}

TEST(Record, EveryKindRoundTripsThroughBothJsonForms) {
  for (const RecordBody& body : EveryKind()) {
    Record r = Make(body);
    ASSERT_TRUE(Validate(r).ok()) << r.kind() << ": " << Validate(r).error().ToString();
    for (const std::string& text : {CompactJson(r), PrettyJson(r)}) {
      Result<Record> back = ParseRecord(text, "t");
      ASSERT_TRUE(back.ok()) << r.kind() << ": " << back.error().ToString();
      EXPECT_EQ(back->kind(), r.kind());
      EXPECT_EQ(back->id, r.id);
      EXPECT_EQ(CompactJson(*back), CompactJson(r));
    }
  }
}

TEST(Record, KnownJsonShape) {
  Record r = Make(AgentStopped{"SIGTERM"});
  EXPECT_EQ(CompactJson(r),
            "{\"agent\":\"agent-1\",\"data\":{\"reason\":\"SIGTERM\"},\"environment\":\"prod\",\"id\":\"" + r.id +
                "\",\"kind\":\"agent.stopped\",\"previous_id\":\"\",\"schema\":1,\"seq\":1,"
                "\"time\":\"2026-11-27T10:00:00.000Z\"}");
}

TEST(Record, EditedContentNoLongerMatchesItsId) {
  Record r = Make(AppliedHealthy(Revision(1), 2));
  std::string text = CompactJson(r);
  std::size_t at = text.find("alice@example.com");
  text.replace(at, 5, "mallo");
  Result<Record> back = ParseRecord(text, "rec.json");
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.error().code, ErrorCode::kCheckFailed);
  EXPECT_EQ(back.error().where.field, "id");
}

TEST(Record, ErrorsNameTheField) {
  struct Case {
    std::string text;
    std::string field;
  };
  Record good = Make(AppliedHealthy(Revision(1), 1));
  nlohmann::json j = ToJson(good);
  auto with = [&](const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json copy = j;
    edit(copy);
    return copy.dump();
  };
  std::vector<Case> cases = {
      {with([](auto& x) { x["data"]["health"]["status"] = "fine"; }), "data.health.status"},
      {with([](auto& x) { x["data"]["objects"][0]["sha256"] = "xyz"; }), "data.objects[0].sha256"},
      {with([](auto& x) { x["data"]["objects"][0]["value"] = "c2VjcmV0"; }), "data.objects[0].value"},
      {with([](auto& x) { x["data"]["revision"] = "main"; }), "data.revision"},
      {with([](auto& x) { x["seq"] = 0; }), "seq"},
      {with([](auto& x) { x["kind"] = "reconcile.exploded"; }), "kind"},
      {with([](auto& x) { x.erase("environment"); }), "environment"},
      {with([](auto& x) { x["extra"] = 1; }), "extra"},
      {with([](auto& x) { x["time"] = "yesterday"; }), "time"},
      {with([](auto& x) { x["data"]["waves"][0]["duration_ms"] = -1; }), "data.waves[0].duration_ms"},
  };
  for (const Case& c : cases) {
    Result<Record> r = ParseRecord(c.text, "rec.json");
    ASSERT_FALSE(r.ok()) << c.field;
    EXPECT_EQ(r.error().where.field, c.field) << r.error().ToString();
    EXPECT_EQ(r.error().where.file, "rec.json");
  }
}

TEST(Record, RefusesNewerSchemaDeepNestingAndBadJson) {
  Record r = Make(AgentStopped{"x"});
  nlohmann::json j = ToJson(r);
  j["schema"] = 2;
  Result<Record> newer = ParseRecord(j.dump(), "r");
  ASSERT_FALSE(newer.ok());
  EXPECT_NE(newer.error().message.find("newer"), std::string::npos);
  EXPECT_EQ(ParseRecord(std::string(100000, '[') + std::string(100000, ']'), "r").error().code,
            ErrorCode::kLimitExceeded);
  EXPECT_FALSE(ParseRecord("{\"seq\":", "r").ok());
  EXPECT_FALSE(ParseRecord("", "r").ok());
}

// Found by fuzz_audit_record: nlohmann reports a number too large for a
// double as out_of_range, not parse_error, and it escaped ParseRecord.
TEST(Record, HugeNumberIsAnErrorNotAnException) {
  Result<Record> r = ParseRecord("{\"seq\":6e338}", "r");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("not valid JSON"), std::string::npos);
}

TEST(Record, SecretsAppearOnlyAsDigests) {
  Result<manifest::ObjectList> objects = manifest::ParseObjects(
      "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: prod}\n"
      "data: {password: aHVudGVyMg==}\nstringData: {token: s3cr3t-t0ken}\n",
      "secret.yaml");
  ASSERT_TRUE(objects.ok());
  ObjectDigest d = DigestObject(objects->front());
  EXPECT_TRUE(d.secret);
  EXPECT_EQ(d.object, "v1/Secret/prod/db");
  EXPECT_EQ(d.sha256, Sha256Hex(manifest::EmitYaml(objects->front().node)));
  ReconcileFinished f = AppliedHealthy(Revision(1), 0);
  f.objects.push_back(d);
  Record r = Make(f);
  for (const std::string& text : {CompactJson(r), PrettyJson(r), Summary(r)}) {
    EXPECT_EQ(text.find("aHVudGVyMg"), std::string::npos);
    EXPECT_EQ(text.find("s3cr3t"), std::string::npos);
  }
}

TEST(Record, SummariesReadLikeSentences) {
  EXPECT_EQ(Summary(Make(AppliedHealthy(Revision(0x3f2a91c), 14))),
            "prod: applied 0000000 by alice@example.com, 14 objects, healthy in 42s");
  ReconcileFinished failed = AppliedHealthy(Revision(1), 1);
  failed.outcome = "failed";
  failed.error = "server rejected apps/v1/Deployment/prod/web\nmore detail";
  failed.health = {"not_checked", 0, {}, ""};
  EXPECT_EQ(Summary(Make(failed)),
            "prod: failed to apply 0000000 by alice@example.com: server rejected apps/v1/Deployment/prod/web");
  EXPECT_EQ(Summary(Make(DriftDetected{{{"v1/ConfigMap/prod/a", {"data.x"}}, {"v1/ConfigMap/prod/b", {}}}})),
            "prod: drift in 2 objects (v1/ConfigMap/prod/a, ...)");
  EXPECT_EQ(Summary(Make(AgentStopped{"SIGTERM"})), "prod: agent stopped (SIGTERM)");
}

TEST(Record, TimesRoundTrip) {
  auto t = ParseTime("2026-11-27T10:00:00.123Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(FormatTime(*t), "2026-11-27T10:00:00.123Z");
  auto offset = ParseTime("2026-11-27T11:30:00+01:30");
  ASSERT_TRUE(offset.ok());
  EXPECT_EQ(FormatTime(*offset), "2026-11-27T10:00:00.000Z");
  EXPECT_FALSE(ParseTime("2026-02-30T00:00:00Z").ok());
  EXPECT_FALSE(ParseTime("2026-11-27 10:00:00").ok());
}

// Found by fuzz_audit_record: a record dated 2626 overflowed the clock's
// 64-bit nanosecond count (undefined behaviour, which the sanitizer build
// aborts on) and was accepted with a garbage time. Times the clock cannot
// hold are an error naming the field; its edges still round-trip.
TEST(Record, TimeOutsideTheClockRangeIsAnErrorNotAnOverflow) {
  std::string text = keelson::testing::ReadFileOrDie(
      std::string(KEELSON_SOURCE_DIR) +
      "/tests/fuzz/findings/fuzz_audit_record/crash-e6ab1892b6586ab484165b8d8df0e0c1c2f76b7d");
  Result<Record> r = ParseRecord(text, "fuzz.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().where.file, "fuzz.json");
  EXPECT_EQ(r.error().where.field, "time") << r.error().ToString();
  EXPECT_NE(r.error().message.find("outside"), std::string::npos) << r.error().ToString();

  EXPECT_FALSE(ParseTime("2626-11-27T09:00:21.537Z").ok());
  EXPECT_FALSE(ParseTime("9999-12-31T23:59:59.999Z").ok());
  EXPECT_FALSE(ParseTime("0000-01-01T00:00:00Z").ok());
  EXPECT_FALSE(ParseTime("2262-04-11T23:47:16.855Z").ok());
  EXPECT_FALSE(ParseTime("2262-04-11T23:47:16.854-01:00").ok());
  EXPECT_TRUE(ParseTime("2262-04-11T22:47:16.854-01:00").ok());
  EXPECT_FALSE(ParseTime("1677-09-21T00:12:43.145Z").ok());
  for (std::string_view edge : {"2262-04-11T23:47:16.854Z", "1677-09-21T00:12:43.146Z"}) {
    auto t = ParseTime(edge);
    ASSERT_TRUE(t.ok()) << edge;
    EXPECT_EQ(FormatTime(*t), edge);
  }
}

}  // namespace
}  // namespace keelson::audit
