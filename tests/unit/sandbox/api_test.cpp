#include "sandbox/api.h"

#include <gtest/gtest.h>

#include "tests/testing/temp_dir.h"

namespace keelson::sandbox {
namespace {

using namespace std::chrono_literals;

class ApiTest : public ::testing::Test {
 protected:
  ApiTest() : api_(Options(), [this] { return now_; }) {}
  static SandboxOptions Options() {
    SandboxOptions o;
    o.rollout_delay = 2s;
    o.fail_images = {"broken*"};
    o.watch_history = 50;
    return o;
  }
  void SetUp() override { ASSERT_TRUE(api_.Open("").ok()); }

  ApiResponse Call(const std::string& method, const std::string& target, const std::string& body = "",
                   const std::string& content_type = "application/json") {
    ApiRequest r;
    r.method = method;
    r.target = target;
    r.body = body;
    r.content_type = content_type;
    r.user_agent = "test/1.0";
    return api_.Handle(r).response;
  }
  Json Body(const ApiResponse& r) { return Json::parse(r.body); }

  std::chrono::system_clock::time_point now_ = std::chrono::system_clock::time_point(1'800'000'000s);
  SandboxApi api_;
};

constexpr const char* kDeployment = R"({"apiVersion":"apps/v1","kind":"Deployment",
  "metadata":{"name":"web","namespace":"default","labels":{"app":"web"}},
  "spec":{"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},
  "spec":{"containers":[{"name":"app","image":"nginx:1.25"}]}}}})";

TEST_F(ApiTest, DiscoveryPlainAndAggregated) {
  ApiResponse core = Call("GET", "/api?timeout=32s");
  EXPECT_EQ(Body(core)["versions"], Json::array({"v1"}));
  ApiRequest aggregated;
  aggregated.method = "GET";
  aggregated.target = "/apis";
  aggregated.accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
  ApiResponse agg = api_.Handle(aggregated).response;
  EXPECT_EQ(agg.content_type, "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
  Json items = Body(agg)["items"];
  bool apps = false;
  for (const Json& g : items) {
    if (g["metadata"]["name"] != "apps") continue;
    apps = true;
    EXPECT_EQ(g["versions"][0]["resources"][0]["resource"], "deployments");
    EXPECT_EQ(g["versions"][0]["resources"][0]["subresources"][0]["subresource"], "status");
  }
  EXPECT_TRUE(apps);
  Json list = Body(Call("GET", "/apis/apps/v1"));
  EXPECT_EQ(list["groupVersion"], "apps/v1");
  EXPECT_EQ(list["resources"][1]["name"], "deployments/status");
  EXPECT_EQ(Call("GET", "/apis/nothing.example/v1").status, 404);
}

TEST_F(ApiTest, OpenApiDocumentsLetKubectlValidateOnTheServer) {
  Json index = Body(Call("GET", "/openapi/v3"));
  std::string url = index["paths"]["apis/apps/v1"]["serverRelativeURL"];
  EXPECT_TRUE(url.starts_with("/openapi/v3/apis/apps/v1?hash=")) << url;
  Json doc = Body(Call("GET", url));
  Json patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
  EXPECT_EQ(patch["x-kubernetes-action"], "patch");
  EXPECT_EQ(patch["x-kubernetes-group-version-kind"]["kind"], "Deployment");
  bool field_validation = false;
  for (const Json& p : patch["parameters"]) field_validation |= p["name"] == "fieldValidation";
  EXPECT_TRUE(field_validation);
  EXPECT_EQ(Call("GET", "/openapi/v2").status, 404);
}

TEST_F(ApiTest, CreateGetListAndErrors) {
  ApiResponse created = Call("POST", "/apis/apps/v1/namespaces/default/deployments", kDeployment);
  ASSERT_EQ(created.status, 201) << created.body;
  Json d = Body(created);
  EXPECT_EQ(d["metadata"]["uid"].get<std::string>().size(), 36u);
  EXPECT_EQ(d["metadata"]["creationTimestamp"], "2027-01-15T08:00:00Z");
  EXPECT_EQ(d["metadata"]["generation"], 1);
  EXPECT_EQ(d["spec"]["replicas"], 1);
  EXPECT_EQ(d["metadata"]["managedFields"][0]["manager"], "test");

  ApiResponse again = Call("POST", "/apis/apps/v1/namespaces/default/deployments", kDeployment);
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(Body(again)["reason"], "AlreadyExists");

  ApiResponse missing_ns = Call("POST", "/api/v1/namespaces/nowhere/configmaps",
                                R"({"metadata":{"name":"c"}})");
  EXPECT_EQ(missing_ns.status, 404);
  EXPECT_EQ(Body(missing_ns)["message"], "namespaces \"nowhere\" not found");

  ApiResponse not_found = Call("GET", "/api/v1/namespaces/default/configmaps/none");
  EXPECT_EQ(not_found.status, 404);
  EXPECT_EQ(Body(not_found)["kind"], "Status");
  EXPECT_EQ(Body(not_found)["details"]["kind"], "configmaps");

  EXPECT_EQ(Call("POST", "/api/v1/namespaces/default/configmaps", "{not json").status, 400);
  EXPECT_EQ(Call("POST", "/api/v1/namespaces/default/configmaps", std::string(500, '[')).status, 400);
  ApiResponse invalid = Call("POST", "/api/v1/namespaces/default/configmaps", R"({"metadata":{"name":"Bad_Name"}})");
  EXPECT_EQ(invalid.status, 422);
  EXPECT_EQ(Call("POST", "/api/v1/namespaces", "\x0a\x02k8s", "application/vnd.kubernetes.protobuf").status, 415);
  ApiResponse bad_replicas = Call("POST", "/apis/apps/v1/namespaces/default/deployments",
                                  R"({"metadata":{"name":"x"},"spec":{"replicas":"three"}})");
  EXPECT_EQ(bad_replicas.status, 422) << bad_replicas.body;
}

TEST_F(ApiTest, ListWithSelectorsAndPages) {
  for (const char* name : {"a", "b", "c", "d"}) {
    std::string tier = std::string(name) < "c" ? "front" : "back";
    ASSERT_EQ(Call("POST", "/api/v1/namespaces/default/configmaps",
                   R"({"metadata":{"name":")" + std::string(name) + R"(","labels":{"tier":")" + tier + R"("}}})")
                  .status,
              201);
  }
  Json front = Body(Call("GET", "/api/v1/namespaces/default/configmaps?labelSelector=tier%3Dfront"));
  ASSERT_EQ(front["items"].size(), 2u);
  EXPECT_EQ(front["kind"], "ConfigMapList");
  Json not_in = Body(Call("GET", "/api/v1/configmaps?labelSelector=tier+notin+(front),tier"));
  EXPECT_EQ(not_in["items"].size(), 2u);
  Json by_name = Body(Call("GET", "/api/v1/namespaces/default/configmaps?fieldSelector=metadata.name%3Dc"));
  ASSERT_EQ(by_name["items"].size(), 1u);

  std::vector<std::string> names;
  std::string token;
  for (int page = 0; page < 4; ++page) {
    Json list = Body(Call("GET", "/api/v1/namespaces/default/configmaps?limit=3" +
                                     (token.empty() ? "" : "&continue=" + token)));
    for (const Json& item : list["items"]) names.push_back(item["metadata"]["name"]);
    token = list["metadata"].value("continue", "");
    if (token.empty()) break;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(Call("GET", "/api/v1/configmaps?labelSelector=a+in+b").status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/configmaps?continue=zz").status, 400);
}

TEST_F(ApiTest, UpdatesUseOptimisticConcurrencyAndCountGenerations) {
  Json d = Body(Call("POST", "/apis/apps/v1/namespaces/default/deployments", kDeployment));
  std::string rv = d["metadata"]["resourceVersion"];
  d["spec"]["replicas"] = 3;
  ApiResponse updated = Call("PUT", "/apis/apps/v1/namespaces/default/deployments/web", d.dump());
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(Body(updated)["metadata"]["generation"], 2);
  ApiResponse stale = Call("PUT", "/apis/apps/v1/namespaces/default/deployments/web", d.dump());
  EXPECT_EQ(stale.status, 409);
  EXPECT_NE(Body(stale)["message"].get<std::string>().find("the object has been modified"), std::string::npos);

  // Labels are metadata: no new generation. A write that changes nothing is
  // no write at all.
  Json current = Body(updated);
  current["metadata"]["labels"]["extra"] = "yes";
  Json labelled = Body(Call("PUT", "/apis/apps/v1/namespaces/default/deployments/web", current.dump()));
  EXPECT_EQ(labelled["metadata"]["generation"], 2);
  ApiResponse same = Call("PUT", "/apis/apps/v1/namespaces/default/deployments/web", labelled.dump());
  EXPECT_EQ(Body(same)["metadata"]["resourceVersion"], labelled["metadata"]["resourceVersion"]);
  EXPECT_NE(rv, labelled["metadata"]["resourceVersion"]);
}

TEST_F(ApiTest, StatusSubresourceIsSeparate) {
  Json d = Body(Call("POST", "/apis/apps/v1/namespaces/default/deployments", kDeployment));
  d["status"] = Json{{"replicas", 7}};
  Json main = Body(Call("PUT", "/apis/apps/v1/namespaces/default/deployments/web", d.dump()));
  EXPECT_FALSE(main.contains("status") && main["status"].contains("replicas") && main["status"]["replicas"] == 7);
  main["status"] = Json{{"replicas", 7}};
  main["spec"]["replicas"] = 9;
  Json status = Body(Call("PUT", "/apis/apps/v1/namespaces/default/deployments/web/status", main.dump()));
  EXPECT_EQ(status["status"]["replicas"], 7);
  EXPECT_EQ(status["spec"]["replicas"], 1);
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/default/configmaps/x/status").status, 404);
}

TEST_F(ApiTest, ScaleSubresourceReadsAndWritesReplicas) {
  ASSERT_EQ(Call("POST", "/apis/apps/v1/namespaces/default/deployments", kDeployment).status, 201);
  const std::string url = "/apis/apps/v1/namespaces/default/deployments/web/scale";
  Json scale = Body(Call("GET", url));
  EXPECT_EQ(scale["kind"], "Scale");
  EXPECT_EQ(scale["spec"]["replicas"], 1);
  EXPECT_EQ(scale["status"]["selector"], "app=web");
  ApiResponse patched = Call("PATCH", url, R"({"spec":{"replicas":4}})", "application/merge-patch+json");
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(Body(Call("GET", "/apis/apps/v1/namespaces/default/deployments/web"))["spec"]["replicas"], 4);
  EXPECT_EQ(Call("PATCH", url, R"({"spec":{"replicas":-1}})", "application/merge-patch+json").status, 422);
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/default/configmaps/x/scale").status, 404);
  bool listed = false;
  Json apps = Body(Call("GET", "/apis/apps/v1"));
  for (const Json& r : apps["resources"]) listed |= r["name"] == "deployments/scale";
  EXPECT_TRUE(listed);
}

TEST_F(ApiTest, PatchFormats) {
  ASSERT_EQ(Call("POST", "/apis/apps/v1/namespaces/default/deployments", kDeployment).status, 201);
  const std::string url = "/apis/apps/v1/namespaces/default/deployments/web";
  ApiResponse smp = Call("PATCH", url,
                         R"({"spec":{"template":{"spec":{"containers":[{"name":"app","image":"nginx:1.26"}]}}}})",
                         "application/strategic-merge-patch+json");
  ASSERT_EQ(smp.status, 200) << smp.body;
  Json c = Body(smp)["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(c["image"], "nginx:1.26");
  EXPECT_EQ(c["terminationMessagePath"], "/dev/termination-log");
  ApiResponse merge = Call("PATCH", url, R"({"metadata":{"labels":{"app":null}}})", "application/merge-patch+json");
  EXPECT_FALSE(Body(merge)["metadata"].contains("labels"));
  ApiResponse json_patch = Call("PATCH", url, R"([{"op":"replace","path":"/spec/replicas","value":4}])",
                                "application/json-patch+json");
  EXPECT_EQ(Body(json_patch)["spec"]["replicas"], 4);
  EXPECT_EQ(Call("PATCH", url, "{}", "text/plain").status, 415);
  EXPECT_EQ(Call("PATCH", url + "x", "{}", "application/merge-patch+json").status, 404);
}

TEST_F(ApiTest, ServerSideApplyCreatesUpdatesAndConflicts) {
  const std::string url = "/api/v1/namespaces/default/configmaps/cfg?fieldManager=alice";
  const char* yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  k: one\n";
  ApiResponse created = Call("PATCH", url, yaml, "application/apply-patch+yaml");
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(Body(created)["metadata"]["managedFields"][0]["operation"], "Apply");
  ApiResponse again = Call("PATCH", url, yaml, "application/apply-patch+yaml");
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(Body(again)["metadata"]["resourceVersion"], Body(created)["metadata"]["resourceVersion"]);
  const char* other = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  k: two\n";
  ApiResponse conflict = Call("PATCH", "/api/v1/namespaces/default/configmaps/cfg?fieldManager=bob", other,
                              "application/apply-patch+yaml");
  EXPECT_EQ(conflict.status, 409);
  Json status = Body(conflict);
  EXPECT_EQ(status["details"]["causes"][0]["message"], "conflict with \"alice\" using v1");
  EXPECT_EQ(status["details"]["causes"][0]["field"], ".data.k");
  EXPECT_EQ(Call("PATCH", "/api/v1/namespaces/default/configmaps/cfg?fieldManager=bob&force=true", other,
                 "application/apply-patch+yaml")
                .status,
            200);
  ApiResponse dry = Call("PATCH", "/api/v1/namespaces/default/configmaps/new?fieldManager=a&dryRun=All",
                         "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: new\n", "application/apply-patch+yaml");
  EXPECT_EQ(dry.status, 201);
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/default/configmaps/new").status, 404);
  EXPECT_EQ(Call("PATCH", "/api/v1/namespaces/default/configmaps/cfg", yaml, "application/apply-patch+yaml").status,
            400);
  EXPECT_EQ(Call("PATCH", url, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: cfg\n",
                 "application/apply-patch+yaml")
                .status,
            400);
}

TEST_F(ApiTest, ServerSideApplyChecksTheResourceVersionPrecondition) {
  const std::string url = "/apis/coordination.k8s.io/v1/namespaces/default/leases/lead?fieldManager=a";
  auto lease = [](const std::string& rv, const std::string& holder) {
    std::string meta = rv.empty() ? "" : ",\"resourceVersion\":\"" + rv + "\"";
    return "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\",\"metadata\":{\"name\":\"lead\"" + meta +
           "},\"spec\":{\"holderIdentity\":\"" + holder + "\"}}";
  };
  EXPECT_EQ(Call("PATCH", url, lease("7", "a"), "application/apply-patch+yaml").status, 409);
  ApiResponse created = Call("PATCH", url, lease("", "a"), "application/apply-patch+yaml");
  ASSERT_EQ(created.status, 201) << created.body;
  std::string rv = Body(created)["metadata"]["resourceVersion"];
  ApiResponse renewed = Call("PATCH", url, lease(rv, "a-renewed"), "application/apply-patch+yaml");
  ASSERT_EQ(renewed.status, 200) << renewed.body;
  std::string rv2 = Body(renewed)["metadata"]["resourceVersion"];
  ASSERT_NE(rv2, rv);
  // Another writer with the stale version loses even with force.
  ApiResponse stale = Call("PATCH", url.substr(0, url.find('?')) + "?fieldManager=b&force=true",
                           lease(rv, "b"), "application/apply-patch+yaml");
  EXPECT_EQ(stale.status, 409);
  EXPECT_EQ(Body(stale)["reason"], "Conflict");
  ApiResponse taken = Call("PATCH", url.substr(0, url.find('?')) + "?fieldManager=b&force=true", lease(rv2, "b"),
                           "application/apply-patch+yaml");
  EXPECT_EQ(taken.status, 200) << taken.body;
  EXPECT_EQ(Body(taken)["spec"]["holderIdentity"], "b");
}

TEST_F(ApiTest, FinalizersHoldDeletionUntilRemoved) {
  ASSERT_EQ(Call("POST", "/api/v1/namespaces/default/configmaps",
                 R"({"metadata":{"name":"held","finalizers":["example.com/hold"]}})")
                .status,
            201);
  ApiResponse deleting = Call("DELETE", "/api/v1/namespaces/default/configmaps/held",
                              R"({"propagationPolicy":"Background"})");
  EXPECT_EQ(deleting.status, 202);
  EXPECT_TRUE(Body(deleting)["metadata"].contains("deletionTimestamp"));
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/default/configmaps/held").status, 200);
  ApiResponse released = Call("PATCH", "/api/v1/namespaces/default/configmaps/held",
                              R"({"metadata":{"finalizers":null}})", "application/merge-patch+json");
  EXPECT_EQ(released.status, 200) << released.body;
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/default/configmaps/held").status, 404);

  ASSERT_EQ(Call("POST", "/api/v1/namespaces/default/configmaps", R"({"metadata":{"name":"fg"}})").status, 201);
  EXPECT_EQ(Call("DELETE", "/api/v1/namespaces/default/configmaps/fg?propagationPolicy=Foreground").status, 202);
  api_.RunControllers();
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/default/configmaps/fg").status, 404);
  EXPECT_EQ(Call("DELETE", "/api/v1/namespaces/default/configmaps/x?propagationPolicy=Sideways").status, 404);
}

TEST_F(ApiTest, NamespaceDeletionEmptiesIt) {
  ASSERT_EQ(Call("POST", "/api/v1/namespaces", R"({"metadata":{"name":"temp"}})").status, 201);
  ASSERT_EQ(Call("POST", "/api/v1/namespaces/temp/configmaps", R"({"metadata":{"name":"c"}})").status, 201);
  EXPECT_EQ(Call("DELETE", "/api/v1/namespaces/temp").status, 202);
  ApiResponse refused = Call("POST", "/api/v1/namespaces/temp/configmaps", R"({"metadata":{"name":"d"}})");
  EXPECT_EQ(refused.status, 403);
  api_.RunControllers();
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/temp/configmaps/c").status, 404);
  api_.RunControllers();
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/temp").status, 404);
}

TEST_F(ApiTest, CustomResourceDefinitionsRegisterKinds) {
  const char* crd = R"({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
    "metadata":{"name":"widgets.example.com"},"spec":{"group":"example.com","scope":"Namespaced",
    "names":{"kind":"Widget","plural":"widgets"},"versions":[{"name":"v1","served":true,"storage":true,
    "subresources":{"status":{}}}]}})";
  ApiResponse created = Call("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd);
  ASSERT_EQ(created.status, 201) << created.body;
  Json stored = Body(Call("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com"));
  EXPECT_EQ(stored["status"]["conditions"][1]["type"], "Established");
  EXPECT_EQ(stored["status"]["conditions"][1]["status"], "True");
  EXPECT_EQ(Body(Call("GET", "/apis/example.com/v1"))["resources"][0]["kind"], "Widget");
  EXPECT_TRUE(Body(Call("GET", "/openapi/v3"))["paths"].contains("apis/example.com/v1"));
  ApiResponse widget = Call("POST", "/apis/example.com/v1/namespaces/default/widgets",
                            R"({"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},
                                "spec":{"list":[{"name":"a"}]}})");
  ASSERT_EQ(widget.status, 201) << widget.body;
  EXPECT_EQ(Call("PATCH", "/apis/example.com/v1/namespaces/default/widgets/w", "{}",
                 "application/strategic-merge-patch+json")
                .status,
            415);
  EXPECT_EQ(Call("DELETE", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com").status,
            200);
  EXPECT_EQ(Call("GET", "/apis/example.com/v1/namespaces/default/widgets/w").status, 404);
  EXPECT_EQ(Call("GET", "/apis/example.com/v1").status, 404);

  ApiResponse bad = Call("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                         R"({"metadata":{"name":"things.apps"},"spec":{"group":"apps","scope":"Namespaced",
                             "names":{"kind":"Thing","plural":"things"},"versions":[{"name":"v1"}]}})");
  EXPECT_EQ(bad.status, 422);
}

TEST_F(ApiTest, RolloutsTakeTheDelayAndBrokenImagesFail) {
  ASSERT_EQ(Call("POST", "/apis/apps/v1/namespaces/default/deployments", kDeployment).status, 201);
  std::string broken = kDeployment;
  broken.replace(broken.find("\"web\""), 5, "\"bad\"");
  broken.replace(broken.find("nginx:1.25"), 10, "broken:1");
  ASSERT_EQ(Call("POST", "/apis/apps/v1/namespaces/default/deployments", broken).status, 201);
  api_.RunControllers();
  Json web = Body(Call("GET", "/apis/apps/v1/namespaces/default/deployments/web"));
  EXPECT_EQ(web["status"]["conditions"][0]["status"], "False");
  EXPECT_EQ(web["status"]["conditions"][1]["reason"], "ReplicaSetUpdated");
  now_ += 3s;
  api_.RunControllers();
  web = Body(Call("GET", "/apis/apps/v1/namespaces/default/deployments/web"));
  EXPECT_EQ(web["status"]["readyReplicas"], 1);
  EXPECT_EQ(web["status"]["conditions"][0]["type"], "Available");
  EXPECT_EQ(web["status"]["conditions"][0]["status"], "True");
  EXPECT_EQ(web["status"]["observedGeneration"], 1);
  Json bad = Body(Call("GET", "/apis/apps/v1/namespaces/default/deployments/bad"));
  EXPECT_EQ(bad["status"]["conditions"][1]["status"], "False");
  EXPECT_EQ(bad["status"]["conditions"][1]["reason"], "ProgressDeadlineExceeded");
  std::string rv = web["metadata"]["resourceVersion"];
  api_.RunControllers();
  EXPECT_EQ(Body(Call("GET", "/apis/apps/v1/namespaces/default/deployments/web"))["metadata"]["resourceVersion"], rv);
}

TEST_F(ApiTest, WatchReplaysHistoryAndExpiresOldVersions) {
  Json first = Body(Call("POST", "/api/v1/namespaces/default/configmaps", R"({"metadata":{"name":"w0"}})"));
  std::uint64_t since = std::stoull(first["metadata"]["resourceVersion"].get<std::string>());
  ASSERT_EQ(Call("POST", "/api/v1/namespaces/default/configmaps", R"({"metadata":{"name":"w1"}})").status, 201);
  HandleResult watch = api_.Handle(ApiRequest{"GET",
                                              "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=" +
                                                  std::to_string(since) + "&allowWatchBookmarks=true",
                                              "", "", "", "", ""});
  ASSERT_TRUE(watch.watch.has_value());
  std::vector<std::string> live;
  SandboxApi::WatchStart start = api_.StartWatch(*watch.watch, [&](std::string line) { live.push_back(line); });
  ASSERT_EQ(start.lines.size(), 1u);
  EXPECT_NE(start.lines[0].find(R"("type":"ADDED")"), std::string::npos);
  EXPECT_NE(start.lines[0].find(R"("name":"w1")"), std::string::npos);
  ASSERT_EQ(Call("DELETE", "/api/v1/namespaces/default/configmaps/w0").status, 200);
  ASSERT_EQ(live.size(), 1u);
  EXPECT_NE(live[0].find(R"("type":"DELETED")"), std::string::npos);
  EXPECT_NE(api_.BookmarkLine(*watch.watch).find(R"("type":"BOOKMARK")"), std::string::npos);
  api_.StopWatch(start.watcher_id);

  for (int i = 0; i < 60; ++i) {
    ASSERT_EQ(Call("POST", "/api/v1/namespaces/default/configmaps",
                   R"({"metadata":{"name":"n)" + std::to_string(i) + R"("}})")
                  .status,
              201);
  }
  SandboxApi::WatchStart expired = api_.StartWatch(*watch.watch, [](std::string) {});
  EXPECT_EQ(expired.watcher_id, 0u);
  ASSERT_EQ(expired.lines.size(), 1u);
  EXPECT_NE(expired.lines[0].find(R"("type":"ERROR")"), std::string::npos);
  EXPECT_NE(expired.lines[0].find(R"("code":410)"), std::string::npos);
}

TEST_F(ApiTest, DefaultsThatMatterForDrift) {
  Json svc = Body(Call("POST", "/api/v1/namespaces/default/services",
                       R"({"metadata":{"name":"s"},"spec":{"ports":[{"port":8080}]}})"));
  EXPECT_EQ(svc["spec"]["type"], "ClusterIP");
  EXPECT_EQ(svc["spec"]["sessionAffinity"], "None");
  EXPECT_EQ(svc["spec"]["ports"][0]["protocol"], "TCP");
  EXPECT_EQ(svc["spec"]["ports"][0]["targetPort"], 8080);
  EXPECT_EQ(svc["spec"]["clusterIPs"][0], svc["spec"]["clusterIP"]);
  Json svc2 = Body(Call("POST", "/api/v1/namespaces/default/services",
                        R"({"metadata":{"name":"t"},"spec":{"ports":[{"port":80}]}})"));
  EXPECT_NE(svc["spec"]["clusterIP"], svc2["spec"]["clusterIP"]);
  Json d = Body(Call("POST", "/apis/apps/v1/namespaces/default/deployments", kDeployment));
  EXPECT_EQ(d["spec"]["strategy"]["rollingUpdate"]["maxSurge"], "25%");
  EXPECT_EQ(d["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"], "IfNotPresent");
  EXPECT_EQ(d["spec"]["template"]["spec"]["dnsPolicy"], "ClusterFirst");
  Json secret = Body(Call("POST", "/api/v1/namespaces/default/secrets",
                          R"({"metadata":{"name":"s"},"stringData":{"user":"admin"}})"));
  EXPECT_EQ(secret["data"]["user"], "YWRtaW4=");
  EXPECT_EQ(secret["type"], "Opaque");
  EXPECT_FALSE(secret.contains("stringData"));
}

TEST(ApiAuthTest, TokenIsRequiredExceptForPublicPaths) {
  SandboxOptions options;
  options.token = "t0ken";
  SandboxApi api(options);
  ASSERT_TRUE(api.Open("").ok());
  ApiRequest r{"GET", "/api/v1/namespaces", "", "", "", "", ""};
  EXPECT_EQ(api.Handle(r).response.status, 401);
  r.authorization = "Bearer t0kex";
  EXPECT_EQ(api.Handle(r).response.status, 401);
  r.authorization = "Bearer t0ken";
  EXPECT_EQ(api.Handle(r).response.status, 200);
  ApiRequest version{"GET", "/version", "", "", "", "", ""};
  EXPECT_EQ(api.Handle(version).response.status, 200);
}

TEST(ApiStateTest, RestartKeepsObjectsAndTheCounter) {
  testing::TempDir dir;
  std::string file = dir.path() + "/state.json";
  std::string rv;
  {
    SandboxApi api(SandboxOptions{});
    ASSERT_TRUE(api.Open(file).ok());
    ApiRequest create{"POST", "/api/v1/namespaces/default/configmaps", "", "", "", "",
                      R"({"metadata":{"name":"kept"},"data":{"a":"b"}})"};
    rv = Json::parse(api.Handle(create).response.body)["metadata"]["resourceVersion"];
    ASSERT_TRUE(api.SaveIfDirty().ok());
  }
  SandboxApi again(SandboxOptions{});
  ASSERT_TRUE(again.Open(file).ok());
  ApiRequest get{"GET", "/api/v1/namespaces/default/configmaps/kept", "", "", "", "", ""};
  Json kept = Json::parse(again.Handle(get).response.body);
  EXPECT_EQ(kept["data"]["a"], "b");
  EXPECT_EQ(kept["metadata"]["resourceVersion"], rv);
  EXPECT_EQ(again.store().resource_version(), std::stoull(rv));

  testing::TempDir broken;
  broken.Write("state.json", "{\"objects\": 5}");
  SandboxApi bad(SandboxOptions{});
  EXPECT_FALSE(bad.Open(broken.path() + "/state.json").ok());
}

TEST(ApiFaultTest, CountsComeFirstAndAdminEndpointsValidate) {
  SandboxOptions options;
  options.faults.error_count = 1;
  options.faults.throttle_count = 1;
  SandboxApi api(options);
  ASSERT_TRUE(api.Open("").ok());
  EXPECT_EQ(api.DecideFault("/sandbox/faults").action, FaultAction::kNone);
  EXPECT_EQ(api.DecideFault("/api/v1/namespaces").action, FaultAction::kError);
  EXPECT_EQ(api.DecideFault("/api/v1/namespaces").action, FaultAction::kThrottle);
  EXPECT_EQ(api.DecideFault("/api/v1/namespaces").action, FaultAction::kNone);

  ApiRequest put{"PUT", "/sandbox/faults", "", "", "", "", R"({"dropCount":2,"pathPrefix":"/apis/"})"};
  ASSERT_EQ(api.Handle(put).response.status, 200);
  EXPECT_EQ(api.DecideFault("/api/v1/namespaces").action, FaultAction::kNone);
  EXPECT_EQ(api.DecideFault("/apis/apps/v1/deployments").action, FaultAction::kDrop);
  put.body = R"({"errorRate":2})";
  EXPECT_EQ(api.Handle(put).response.status, 400);
  put.body = R"({"typo":1})";
  EXPECT_EQ(api.Handle(put).response.status, 400);
  EXPECT_EQ(api.options().faults.drop_count, 1);

  api.LogRequest("PATCH", "/api/v1/namespaces/x?fieldManager=k", 201);
  ApiRequest log{"GET", "/sandbox/requests", "", "", "", "", ""};
  Json items = Json::parse(api.Handle(log).response.body)["items"];
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["path"], "/api/v1/namespaces/x");
  EXPECT_EQ(items[0]["query"], "fieldManager=k");
  EXPECT_EQ(items[0]["status"], 201);
}

TEST(LabelSelectorTest, ParsesTheApiGrammar) {
  Result<LabelSelector> s = ParseLabelSelector("a=b, c!=d,e in (x, y),f notin (z),g,!h");
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(s->size(), 6u);
  Json object = Json::parse(R"({"metadata":{"labels":{"a":"b","e":"y","g":""}}})");
  EXPECT_TRUE(SelectorMatches(*s, object));
  object["metadata"]["labels"]["h"] = "1";
  EXPECT_FALSE(SelectorMatches(*s, object));
  EXPECT_FALSE(ParseLabelSelector("a in b").ok());
  EXPECT_FALSE(ParseLabelSelector("a in (b").ok());
  EXPECT_FALSE(ParseLabelSelector("=b").ok());
}

TEST(GlobTest, Matches) {
  EXPECT_TRUE(GlobMatches("broken*", "broken:1"));
  EXPECT_TRUE(GlobMatches("*/bad:?", "registry/bad:2"));
  EXPECT_FALSE(GlobMatches("broken*", "nginx"));
}

}  // namespace
}  // namespace keelson::sandbox
