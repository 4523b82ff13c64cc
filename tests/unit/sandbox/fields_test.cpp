#include "sandbox/fields.h"

#include <gtest/gtest.h>

namespace keelson::sandbox {
namespace {

Json J(const char* text) { return Json::parse(text); }

const char* kNow = "2026-01-01T00:00:00Z";

TEST(FieldSetTest, KeyedListsUseMergeKeysAndDefaultProtocol) {
  Json deployment = J(R"({"apiVersion":"apps/v1","kind":"Deployment",
    "metadata":{"name":"web","uid":"x","labels":{"app":"web"}},
    "spec":{"template":{"spec":{"containers":[{"name":"app","image":"nginx","ports":[{"containerPort":80}],
      "args":["a","b"]}]}}}})");
  FieldSet set = FieldSetOf(deployment, false);
  Json encoded = EncodeFieldSet(set);
  Json expected = J(R"({"f:metadata":{"f:labels":{"f:app":{}}},
    "f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{".":{},"f:args":{},"f:image":{},
      "f:name":{},"f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}}}}}})");
  EXPECT_EQ(nlohmann::json::parse(encoded.dump()), nlohmann::json::parse(expected.dump())) << encoded.dump();
  EXPECT_EQ(DecodeFieldSet(encoded), set);
}

TEST(FieldSetTest, CustomResourceListsAreAtomic) {
  Json widget = J(R"({"spec":{"containers":[{"name":"a"}]}})");
  FieldSet set = FieldSetOf(widget, true);
  EXPECT_EQ(set, (FieldSet{{"f:spec", "f:containers"}}));
}

TEST(ServerSideApplyTest, CreatesWithApplyEntry) {
  Json config = J(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"a":"1"}})");
  ApplyOutcome out = ServerSideApply(Json(), config, "alice", false, "v1", false, kNow);
  ASSERT_TRUE(out.conflicts.empty());
  EXPECT_EQ(out.object["data"]["a"], "1");
  const Json& managed = out.object["metadata"]["managedFields"];
  ASSERT_EQ(managed.size(), 1u);
  EXPECT_EQ(managed[0]["manager"], "alice");
  EXPECT_EQ(managed[0]["operation"], "Apply");
  EXPECT_EQ(managed[0]["fieldsV1"].dump(), R"({"f:data":{"f:a":{}}})");
}

TEST(ServerSideApplyTest, ConflictNamesTheOtherManagerAndForceTakesOwnership) {
  Json config = J(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"a":"1","b":"x"}})");
  Json live = ServerSideApply(Json(), config, "alice", false, "v1", false, kNow).object;
  Json bob = J(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"a":"2"}})");
  ApplyOutcome conflict = ServerSideApply(live, bob, "bob", false, "v1", false, kNow);
  ASSERT_EQ(conflict.conflicts.size(), 1u);
  EXPECT_EQ(conflict.conflicts[0].manager, "alice");
  EXPECT_EQ(conflict.conflicts[0].field, ".data.a");

  ApplyOutcome forced = ServerSideApply(live, bob, "bob", true, "v1", false, kNow);
  ASSERT_TRUE(forced.conflicts.empty());
  EXPECT_EQ(forced.object["data"]["a"], "2");
  EXPECT_EQ(forced.object["data"]["b"], "x");
  const Json& managed = forced.object["metadata"]["managedFields"];
  ASSERT_EQ(managed.size(), 2u);
  EXPECT_EQ(managed[0]["fieldsV1"].dump(), R"({"f:data":{"f:b":{}}})");
  EXPECT_EQ(managed[1]["manager"], "bob");
}

TEST(ServerSideApplyTest, SameValueIsSharedWithoutConflict) {
  Json config = J(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"a":"1"}})");
  Json live = ServerSideApply(Json(), config, "alice", false, "v1", false, kNow).object;
  ApplyOutcome shared = ServerSideApply(live, config, "bob", false, "v1", false, kNow);
  EXPECT_TRUE(shared.conflicts.empty());
  EXPECT_EQ(shared.object["metadata"]["managedFields"].size(), 2u);
}

TEST(ServerSideApplyTest, FieldsDroppedFromConfigAreRemovedUnlessOthersOwnThem) {
  Json first = J(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","labels":{"x":"1","y":"2"}},
                    "data":{"a":"1","b":"2"}})");
  Json live = ServerSideApply(Json(), first, "alice", false, "v1", false, kNow).object;
  Json bob = J(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"b":"2"}})");
  live = ServerSideApply(live, bob, "bob", false, "v1", false, kNow).object;
  Json second = J(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","labels":{"x":"1"}}})");
  Json after = ServerSideApply(live, second, "alice", false, "v1", false, kNow).object;
  EXPECT_FALSE(after["data"].contains("a"));
  EXPECT_EQ(after["data"]["b"], "2");  // bob still owns it
  EXPECT_FALSE(after["metadata"]["labels"].contains("y"));
  EXPECT_EQ(after["metadata"]["labels"]["x"], "1");
}

TEST(ServerSideApplyTest, KeyedListItemsMergeAndRemovedItemsGo) {
  Json first = J(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},
    "spec":{"template":{"spec":{"containers":[{"name":"a","image":"a:1"},{"name":"b","image":"b:1"}]}}}})");
  Json live = ServerSideApply(Json(), first, "alice", false, "apps/v1", false, kNow).object;
  // A default the server added belongs to nobody and survives.
  live["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = "IfNotPresent";
  Json second = J(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},
    "spec":{"template":{"spec":{"containers":[{"name":"a","image":"a:2"}]}}}})");
  Json after = ServerSideApply(live, second, "alice", false, "apps/v1", false, kNow).object;
  const Json& containers = after["spec"]["template"]["spec"]["containers"];
  ASSERT_EQ(containers.size(), 1u) << after.dump();
  EXPECT_EQ(containers[0]["image"], "a:2");
  EXPECT_EQ(containers[0]["imagePullPolicy"], "IfNotPresent");
}

TEST(TrackUpdateTest, ChangedFieldsMoveToTheUpdater) {
  Json config = J(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"a":"1","b":"2"}})");
  Json live = ServerSideApply(Json(), config, "alice", false, "v1", false, kNow).object;
  Json edited = live;
  edited["data"]["a"] = "9";
  Json managed = TrackUpdate(live, edited, live["metadata"]["managedFields"], "kubectl-edit", "", "v1", false, kNow);
  ASSERT_EQ(managed.size(), 2u);
  EXPECT_EQ(managed[0]["fieldsV1"].dump(), R"({"f:data":{"f:b":{}}})");
  EXPECT_EQ(managed[1]["manager"], "kubectl-edit");
  EXPECT_EQ(managed[1]["operation"], "Update");
  EXPECT_EQ(managed[1]["fieldsV1"].dump(), R"({"f:data":{"f:a":{}}})");
}

TEST(PatchTest, MergePatchDeletesWithNull) {
  EXPECT_EQ(MergePatch(J(R"({"a":1,"b":{"c":2}})"), J(R"({"b":{"c":null},"d":3})")), J(R"({"a":1,"b":{},"d":3})"));
}

TEST(PatchTest, StrategicMergeMergesContainersByName) {
  Json live = J(R"({"spec":{"containers":[{"name":"a","image":"a:1"},{"name":"b","image":"b:1"}],
                   "tolerations":[{"key":"x"}]}})");
  Result<Json> out = StrategicMergePatch(live, J(R"({"spec":{"containers":[{"name":"b","image":"b:2"},
      {"name":"a","$patch":"delete"}],"tolerations":[{"key":"y"}]}})"));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)["spec"]["containers"], J(R"([{"name":"b","image":"b:2"}])"));
  EXPECT_EQ((*out)["spec"]["tolerations"], J(R"([{"key":"y"}])"));
}

TEST(PatchTest, StrategicMergeDirectives) {
  Json live = J(R"({"metadata":{"finalizers":["a","b"]},"spec":{"strategy":{"type":"RollingUpdate",
                   "rollingUpdate":{"maxSurge":1}},"containers":[{"name":"x"},{"name":"y"}]}})");
  Result<Json> out = StrategicMergePatch(live, J(R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["a"]},
      "spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"},
              "$setElementOrder/containers":[{"name":"y"},{"name":"x"}]}})"));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)["metadata"]["finalizers"], J(R"(["b"])"));
  EXPECT_EQ((*out)["spec"]["strategy"], J(R"({"type":"Recreate"})"));
  EXPECT_EQ((*out)["spec"]["containers"], J(R"([{"name":"y"},{"name":"x"}])"));
  Result<Json> replaced = StrategicMergePatch(live, J(R"({"spec":{"$patch":"replace","replicas":1}})"));
  ASSERT_TRUE(replaced.ok());
  EXPECT_EQ((*replaced)["spec"], J(R"({"replicas":1})"));
}

TEST(PatchTest, StrategicMergeRejectsItemsWithoutTheirKey) {
  Result<Json> out = StrategicMergePatch(J(R"({"containers":[{"name":"a"}]})"), J(R"({"containers":[{"image":"x"}]})"));
  EXPECT_FALSE(out.ok());
}

TEST(PatchTest, JsonPatchFailuresAreErrors) {
  Result<Json> ok = JsonPatch(J(R"({"a":1})"), J(R"([{"op":"replace","path":"/a","value":2}])"));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)["a"], 2);
  EXPECT_FALSE(JsonPatch(J(R"({"a":1})"), J(R"([{"op":"test","path":"/a","value":5}])")).ok());
  EXPECT_FALSE(JsonPatch(J(R"({"a":1})"), J(R"([{"op":"bogus"}])")).ok());
  EXPECT_FALSE(JsonPatch(J(R"({"a":1})"), J(R"({"op":"add"})")).ok());
}

}  // namespace
}  // namespace keelson::sandbox
