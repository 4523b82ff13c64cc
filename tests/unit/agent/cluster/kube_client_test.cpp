#include "agent/cluster/kube_client.h"

#include <gtest/gtest.h>

#include <atomic>

#include "renderers/manifest/json.h"
#include "renderers/manifest/yaml.h"
#include "tests/unit/agent/cluster/fake_transport.h"

namespace keelson::cluster {
namespace {

using manifest::Node;
using manifest::ResourceId;
using testing::Dropped;
using testing::FakeClock;
using testing::FakeTransport;
using testing::Json;
using testing::Reply;

Node Yaml(const std::string& text) {
  Result<Node> n = manifest::ParseYaml(text, {});
  EXPECT_TRUE(n.ok());
  return n.ok() ? *n : Node();
}

bool StartsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// Discovery documents for a small cluster; everything else goes to `api`.
class FakeApi {
 public:
  std::function<Reply(const HttpRequest&)> api;
  std::atomic<bool> widgets_served{false};

  Reply operator()(const HttpRequest& r) {
    if (r.target == "/api/v1") {
      return Json(200, R"({"kind":"APIResourceList","groupVersion":"v1","resources":[
        {"name":"namespaces","namespaced":false,"kind":"Namespace"},
        {"name":"configmaps","namespaced":true,"kind":"ConfigMap"}]})");
    }
    if (r.target == "/apis/apps/v1") {
      return Json(200, R"({"kind":"APIResourceList","groupVersion":"apps/v1","resources":[
        {"name":"deployments","namespaced":true,"kind":"Deployment"},
        {"name":"deployments/status","namespaced":true,"kind":"Deployment"}]})");
    }
    if (r.target == "/apis/example.com/v1") {
      if (!widgets_served) return Json(404, R"({"kind":"Status","message":"not found"})");
      return Json(200, R"({"resources":[{"name":"widgets","namespaced":true,"kind":"Widget"}]})");
    }
    if (r.target == "/apis") {
      return Json(200, R"({"kind":"APIGroupList","groups":[{"name":"apps","versions":[{"groupVersion":"apps/v1","version":"v1"}]}]})");
    }
    if (api) return api(r);
    return Json(404, R"({"kind":"Status","message":"no handler"})");
  }
};

struct Fixture {
  FakeApi fake;
  FakeTransport* transport = nullptr;
  FakeClock clock;
  std::unique_ptr<KubeClient> client;

  Fixture() {
    auto t = std::make_unique<FakeTransport>([this](const HttpRequest& r) { return fake(r); });
    transport = t.get();
    ConnectionConfig config;
    config.server = "https://fake";
    config.default_namespace = "team";
    ClientOptions options;
    options.retry.jitter = 0;
    options.rate_limit.qps = 0;
    client = std::make_unique<KubeClient>(config, std::move(t), &clock, options);
  }
  std::size_t CountTargets(const std::string& prefix) const {
    std::size_t n = 0;
    for (const std::string& t : transport->Targets()) n += StartsWith(t, prefix) ? 1 : 0;
    return n;
  }
};

TEST(KubeClient, ApplySendsServerSideApplyAndCachesDiscovery) {
  Fixture f;
  f.fake.api = [](const HttpRequest& r) { return Json(200, r.body); };
  Node cm = Yaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata: {k: '1'}\n");
  ApplyOptions options;
  options.force = true;
  Result<Node> out = f.client->Apply(cm, options);
  ASSERT_TRUE(out.ok()) << out.error().ToString();
  EXPECT_EQ(out->FindPath({"data", "k"})->AsString(), "1");
  options.force = false;
  options.dry_run = true;
  ASSERT_TRUE(f.client->Apply(cm, options).ok());

  std::vector<HttpRequest> requests = f.transport->requests();
  ASSERT_EQ(requests.size(), 3u);  // one discovery, two applies
  EXPECT_EQ(requests[0].target, "/api/v1");
  EXPECT_EQ(requests[1].method, "PATCH");
  EXPECT_EQ(requests[1].target, "/api/v1/namespaces/team/configmaps/app?fieldManager=keelson&force=true");
  EXPECT_EQ(requests[2].target, "/api/v1/namespaces/team/configmaps/app?fieldManager=keelson&dryRun=All");
  bool content_type = false;
  for (const auto& [k, v] : requests[1].headers) {
    if (k == "Content-Type" && v == "application/apply-patch+yaml") content_type = true;
  }
  EXPECT_TRUE(content_type);
  EXPECT_EQ(requests[1].body, manifest::EmitJson(cm));
  EXPECT_EQ(f.client->metrics().Count("apply", "200"), 2u);
  EXPECT_EQ(f.client->metrics().Count("discovery", "200"), 1u);
}

TEST(KubeClient, ClusterScopedPathsHaveNoNamespace) {
  Fixture f;
  f.fake.api = [](const HttpRequest& r) { return Json(200, r.body); };
  ASSERT_TRUE(f.client->Apply(Yaml("apiVersion: v1\nkind: Namespace\nmetadata: {name: prod}\n"), {}).ok());
  EXPECT_EQ(f.transport->requests().back().target, "/api/v1/namespaces/prod?fieldManager=keelson");
}

TEST(KubeClient, UnknownKindRefreshesDiscovery) {
  Fixture f;
  Result<ResourceMapping> m = f.client->Mapping({"example.com", "v1", "Widget"});
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, ErrorCode::kNotFound);
  EXPECT_NE(m.error().message.find("CustomResourceDefinition"), std::string::npos) << m.error().message;

  f.fake.widgets_served = true;  // the CRD got applied
  m = f.client->Mapping({"example.com", "v1", "Widget"});
  ASSERT_TRUE(m.ok()) << m.error().ToString();
  EXPECT_EQ(m->resource, "widgets");
  EXPECT_TRUE(m->namespaced);
  EXPECT_EQ(f.CountTargets("GET /apis/example.com/v1"), 2u);

  Result<ResourceMapping> wrong = f.client->Mapping({"apps", "v1beta9", "Deployment"});
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message.find("apps serves v1"), std::string::npos) << wrong.error().message;
  Result<ResourceMapping> no_kind = f.client->Mapping({"apps", "v1", "Gizmo"});
  ASSERT_FALSE(no_kind.ok());
  EXPECT_NE(no_kind.error().message.find("no kind Gizmo in apps/v1"), std::string::npos);
}

TEST(KubeClient, ServerErrorsMapToCodesWithTheServerMessage) {
  struct Case {
    int status;
    ErrorCode code;
  };
  for (Case c : {Case{409, ErrorCode::kCheckFailed}, Case{422, ErrorCode::kInvalidInput},
                 Case{403, ErrorCode::kAccessDenied}, Case{404, ErrorCode::kNotFound},
                 Case{503, ErrorCode::kUnavailable}}) {
    SCOPED_TRACE(c.status);
    Fixture f;
    f.fake.api = [&c](const HttpRequest&) {
      return Json(c.status, R"({"kind":"Status","message":"Apply failed with 1 conflict: conflict with \"kubectl\""})");
    };
    Result<Node> r = f.client->Apply(Yaml("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: w, namespace: p}\n"), {});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, c.code);
    EXPECT_NE(r.error().message.find("apply apps/v1/Deployment/p/w"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("conflict with \"kubectl\""), std::string::npos);
  }
}

TEST(KubeClient, MalformedResponsesAreErrorsNotCrashes) {
  for (std::string body : std::vector<std::string>{"", "{", "[1,2]", "null", "{\"items\": 5}", std::string(1, '\0')}) {
    Fixture f;
    f.fake.api = [&body](const HttpRequest&) { return Json(200, body); };
    Result<Node> r = f.client->Get({"", "v1", "ConfigMap", "a", "b"});
    Result<ListResult> l = f.client->List({"", "v1", "ConfigMap"}, {});
    bool an_object = body == "{\"items\": 5}";
    EXPECT_EQ(r.ok(), an_object);
    EXPECT_EQ(l.ok(), an_object);  // a non-list "items" is just no items
    if (!an_object) {
      EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
      EXPECT_NE(r.error().message.find("malformed response"), std::string::npos) << r.error().message;
    }
  }
}

TEST(KubeClient, RejectsNamesThatWouldEscapeThePath) {
  Fixture f;
  for (std::string name : {"", "..", "a/b", "%2e"}) {
    Result<Node> r = f.client->Get({"", "v1", "ConfigMap", "ns", name});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput);
  }
}

TEST(KubeClient, ListFollowsContinueTokensAndFillsKinds) {
  Fixture f;
  f.fake.api = [](const HttpRequest& r) {
    if (r.target.find("continue=p2") != std::string::npos) {
      return Json(200, R"({"metadata":{"resourceVersion":"9","continue":"p3"},"items":[{"metadata":{"name":"c"}}]})");
    }
    if (r.target.find("continue=p3") != std::string::npos) {
      return Json(200, R"({"metadata":{"resourceVersion":"9"},"items":[{"metadata":{"name":"d"}}]})");
    }
    return Json(200, R"({"metadata":{"resourceVersion":"9","continue":"p2"},"items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]})");
  };
  ListOptions options;
  options.namespace_ = "prod";
  options.label_selector = "app=web,tier!=db";
  options.page_size = 2;
  Result<ListResult> r = f.client->List({"apps", "v1", "Deployment"}, options);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  ASSERT_EQ(r->items.size(), 4u);
  EXPECT_EQ(r->resource_version, "9");
  EXPECT_EQ(r->items[3].GetString("kind"), "Deployment");
  EXPECT_EQ(r->items[3].GetString("apiVersion"), "apps/v1");
  std::vector<std::string> targets = f.transport->Targets();
  EXPECT_EQ(targets[1], "GET /apis/apps/v1/namespaces/prod/deployments?limit=2&labelSelector=app%3Dweb%2Ctier%21%3Ddb");
  EXPECT_EQ(targets[2], "GET /apis/apps/v1/namespaces/prod/deployments?limit=2&labelSelector=app%3Dweb%2Ctier%21%3Ddb&continue=p2");
  EXPECT_EQ(f.client->metrics().Count("list", "200"), 3u);
}

TEST(KubeClient, ListRestartsWhenTheContinueTokenExpires) {
  Fixture f;
  int expired = 0;
  f.fake.api = [&expired](const HttpRequest& r) {
    if (r.target.find("continue=") != std::string::npos && expired++ == 0) {
      return Json(410, R"({"kind":"Status","code":410,"reason":"Expired"})");
    }
    if (r.target.find("continue=") != std::string::npos) {
      return Json(200, R"({"metadata":{"resourceVersion":"5"},"items":[{"metadata":{"name":"b"}}]})");
    }
    return Json(200, R"({"metadata":{"resourceVersion":"5","continue":"t"},"items":[{"metadata":{"name":"a"}}]})");
  };
  Result<ListResult> r = f.client->List({"", "v1", "ConfigMap"}, {});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  ASSERT_EQ(r->items.size(), 2u);
  EXPECT_EQ(f.CountTargets("GET /api/v1/configmaps?limit=500"), 4u);
}

TEST(KubeClient, ListStopsAtTheItemCap) {
  FakeApi fake;
  fake.api = [](const HttpRequest&) {
    return Json(200, R"({"metadata":{"continue":"again"},"items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]})");
  };
  ConnectionConfig config;
  config.server = "https://fake";
  ClientOptions options;
  options.rate_limit.qps = 0;
  options.max_list_items = 5;
  FakeClock clock;
  KubeClient client(config, std::make_unique<FakeTransport>([&fake](const HttpRequest& r) { return fake(r); }), &clock,
                    options);
  Result<ListResult> r = client.List({"", "v1", "ConfigMap"}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kLimitExceeded);
}

TEST(KubeClient, WatchListsThenStreamsAndRelistsOnGone) {
  Fixture f;
  int watches = 0;
  f.fake.api = [&watches](const HttpRequest& r) {
    if (r.target.find("watch=1") == std::string::npos) {
      return Json(200, R"({"metadata":{"resourceVersion":"10"},"items":[{"metadata":{"name":"a","resourceVersion":"10"}}]})");
    }
    Reply reply = Json(200, "");
    if (watches++ == 0) {
      // Split mid-line to check reassembly.
      reply.stream = {R"({"type":"ADDED","object":{"metadata":{"name":"b","resourceVersion":"11"}}})" "\n"
                      R"({"type":"BOOKMARK","object":{"kind":"ConfigMap","metadata":{"resourceVer)",
                      R"(sion":"12"}}})" "\n"
                      R"({"type":"ERROR","object":{"kind":"Status","code":410,"message":"too old"}})" "\n"};
    } else {
      reply.stream = {R"({"type":"DELETED","object":{"metadata":{"name":"a","resourceVersion":"20"}}})" "\n"};
    }
    return reply;
  };
  std::vector<std::string> seen;
  Status s = f.client->Watch({"", "v1", "ConfigMap"}, {}, [&seen](const WatchEvent& e) {
    switch (e.type) {
      case WatchEventType::kReset:
        seen.push_back("reset:" + std::to_string(e.items.size()) + "@" + e.resource_version);
        break;
      case WatchEventType::kAdded:
        seen.push_back("added:" + e.object.FindPath({"metadata", "name"})->AsString() + ":" + e.object.GetString("kind"));
        break;
      case WatchEventType::kBookmark:
        seen.push_back("bookmark@" + e.resource_version);
        break;
      case WatchEventType::kDeleted:
        seen.push_back("deleted:" + e.object.FindPath({"metadata", "name"})->AsString());
        return false;
      case WatchEventType::kModified:
        seen.push_back("modified");
        break;
    }
    return true;
  });
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  EXPECT_EQ(seen, (std::vector<std::string>{"reset:1@10", "added:b:ConfigMap", "bookmark@12", "reset:1@10",
                                            "deleted:a"}));
  std::vector<std::string> targets = f.transport->Targets();
  EXPECT_NE(std::find(targets.begin(), targets.end(),
                      "GET /api/v1/configmaps?watch=1&resourceVersion=10&timeoutSeconds=300&allowWatchBookmarks=true"),
            targets.end());
}

TEST(KubeClient, WatchResumesFromTheLastVersionAfterADroppedStream) {
  Fixture f;
  int watches = 0;
  f.fake.api = [&watches](const HttpRequest&) {
    Reply reply = Json(200, "");
    if (watches++ == 0) {
      reply.stream = {R"({"type":"MODIFIED","object":{"metadata":{"name":"a","resourceVersion":"31"}}})" "\n"};
      reply.stream_error = MakeError(ErrorCode::kUnavailable, "connection reset by peer");
    } else {
      reply.stream = {R"({"type":"MODIFIED","object":{"metadata":{"name":"a","resourceVersion":"32"}}})" "\n"};
    }
    return reply;
  };
  WatchOptions options;
  options.resource_version = "30";
  int events = 0;
  Status s = f.client->Watch({"", "v1", "ConfigMap"}, options, [&events](const WatchEvent&) { return ++events < 2; });
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(events, 2);
  EXPECT_EQ(f.CountTargets("GET /api/v1/configmaps?watch=1&resourceVersion=31"), 1u);
}

TEST(KubeClient, WatchGivesUpAfterRepeatedFailures) {
  Fixture f;
  f.fake.api = [](const HttpRequest&) { return Dropped(); };
  WatchOptions options;
  options.resource_version = "1";
  options.max_consecutive_failures = 3;
  Status s = f.client->Watch({"", "v1", "ConfigMap"}, options, [](const WatchEvent&) { return true; });
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(s.error().message.find("3 consecutive failures"), std::string::npos) << s.error().message;
}

TEST(KubeClient, WatchStopsWhenAskedFromOutside) {
  Fixture f;
  std::atomic<bool> stop{false};
  f.fake.api = [&stop](const HttpRequest&) {
    stop = true;
    Reply reply = Json(200, "");
    reply.stream = {R"({"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"2"}}})" "\n"};
    return reply;
  };
  WatchOptions options;
  options.resource_version = "1";
  options.stop = &stop;
  int events = 0;
  Status s = f.client->Watch({"", "v1", "ConfigMap"}, options, [&events](const WatchEvent&) { return ++events > 0; });
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(events, 0);
}

TEST(KubeClient, DeleteReportsWhetherTheObjectExisted) {
  Fixture f;
  f.fake.api = [](const HttpRequest& r) {
    if (r.target.find("/gone") != std::string::npos) return Json(404, R"({"kind":"Status"})");
    return Json(200, R"({"kind":"Status","status":"Success"})");
  };
  Result<bool> d = f.client->Delete({"apps", "v1", "Deployment", "p", "web"}, DeletePropagation::kForeground);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(*d);
  HttpRequest last = f.transport->requests().back();
  EXPECT_EQ(last.method, "DELETE");
  EXPECT_EQ(last.target, "/apis/apps/v1/namespaces/p/deployments/web");
  EXPECT_NE(last.body.find("\"propagationPolicy\":\"Foreground\""), std::string::npos);
  d = f.client->Delete({"apps", "v1", "Deployment", "p", "gone"}, DeletePropagation::kBackground);
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(*d);
}

TEST(KubeClient, StatusReadsUseTheSubresourceWhenServed) {
  Fixture f;
  f.fake.api = [](const HttpRequest&) { return Json(200, R"({"kind":"X","status":{"ready":true}})"); };
  ASSERT_TRUE(f.client->GetStatus({"apps", "v1", "Deployment", "p", "web"}).ok());
  EXPECT_EQ(f.transport->requests().back().target, "/apis/apps/v1/namespaces/p/deployments/web/status");
  ASSERT_TRUE(f.client->GetStatus({"", "v1", "ConfigMap", "p", "c"}).ok());
  EXPECT_EQ(f.transport->requests().back().target, "/api/v1/namespaces/p/configmaps/c");
}

TEST(KubeClient, RetriesAreInvisibleToCallers) {
  Fixture f;
  int calls = 0;
  f.fake.api = [&calls](const HttpRequest& r) {
    if (++calls <= 2) return calls == 1 ? Json(429, "{}", {{"Retry-After", "1"}}) : Dropped();
    return Json(200, r.body);
  };
  ASSERT_TRUE(f.client->Apply(Yaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"), {}).ok());
  EXPECT_EQ(f.client->metrics().Count("apply", "429"), 1u);
  EXPECT_EQ(f.client->metrics().Count("apply", "error"), 1u);
  EXPECT_EQ(f.client->metrics().Count("apply", "200"), 1u);
}

TEST(PercentEncode, KeepsUnreservedOnly) {
  EXPECT_EQ(PercentEncode("a-b_c.d~e"), "a-b_c.d~e");
  EXPECT_EQ(PercentEncode("a=b,c!=d e/f"), "a%3Db%2Cc%21%3Dd%20e%2Ff");
}

}  // namespace
}  // namespace keelson::cluster
