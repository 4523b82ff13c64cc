#include "agent/cluster/fake_client.h"

#include <gtest/gtest.h>

#include "renderers/manifest/yaml.h"

namespace keelson::cluster {
namespace {

using manifest::Node;

Node Yaml(const std::string& text) {
  Result<Node> n = manifest::ParseYaml(text, {});
  EXPECT_TRUE(n.ok());
  return n.ok() ? *n : Node();
}

const char* kWeb = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, labels: {app: web}}\nspec: {replicas: 1}\n";

TEST(FakeClusterClient, StoresAppliedObjectsAndRecordsCalls) {
  FakeClusterClient fake;
  ApplyOptions force;
  force.force = true;
  Result<Node> applied = fake.Apply(Yaml(kWeb), force);
  ASSERT_TRUE(applied.ok()) << applied.error().ToString();
  EXPECT_EQ(applied->FindPath({"metadata", "namespace"})->AsString(), "default");
  EXPECT_EQ(applied->FindPath({"metadata", "generation"})->AsInt(), 1);

  Node changed = Yaml(kWeb);
  changed["spec"].Set("replicas", Node::Int(3));
  Result<Node> again = fake.Apply(changed, {});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->FindPath({"metadata", "generation"})->AsInt(), 2);

  ApplyOptions dry;
  dry.dry_run = true;
  Node preview = Yaml(kWeb);
  preview["spec"].Set("replicas", Node::Int(9));
  ASSERT_TRUE(fake.Apply(preview, dry).ok());
  EXPECT_EQ(fake.Stored({"apps", "v1", "Deployment", "default", "web"})->FindPath({"spec", "replicas"})->AsInt(), 3);

  Result<bool> deleted = fake.Delete({"apps", "v1", "Deployment", "default", "web"}, DeletePropagation::kForeground);
  ASSERT_TRUE(deleted.ok());
  EXPECT_TRUE(*deleted);
  EXPECT_FALSE(*fake.Delete({"apps", "v1", "Deployment", "default", "web"}, DeletePropagation::kBackground));

  std::vector<FakeCall> calls = fake.calls();
  ASSERT_EQ(calls.size(), 5u);
  EXPECT_EQ(calls[0].verb, "apply");
  EXPECT_EQ(calls[0].target, "apps/v1/Deployment/web");
  EXPECT_EQ(calls[0].options, "force");
  EXPECT_EQ(calls[2].options, "dry-run");
  EXPECT_EQ(calls[3], (FakeCall{"delete", "apps/v1/Deployment/default/web", "Foreground", ""}));
}

TEST(FakeClusterClient, ListsBySelectorAndNamespace) {
  FakeClusterClient fake;
  fake.Seed(Yaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: x, labels: {app: web, tier: fe}}\n"));
  fake.Seed(Yaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: x, labels: {app: db}}\n"));
  fake.Seed(Yaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: y, labels: {app: web}}\n"));
  auto names = [&](const std::string& ns, const std::string& selector) {
    ListOptions options;
    options.namespace_ = ns;
    options.label_selector = selector;
    Result<ListResult> r = fake.List({"", "v1", "ConfigMap"}, options);
    EXPECT_TRUE(r.ok());
    std::string out;
    for (const Node& n : r->items) out += n.FindPath({"metadata", "name"})->AsString();
    return out;
  };
  EXPECT_EQ(names("", ""), "abc");
  EXPECT_EQ(names("x", ""), "ab");
  EXPECT_EQ(names("", "app=web"), "ac");
  EXPECT_EQ(names("", "app!=web"), "b");
  EXPECT_EQ(names("", "tier"), "a");
  EXPECT_EQ(names("", "!tier,app==web"), "c");
  ListOptions set_based;
  set_based.label_selector = "app in (web)";
  EXPECT_FALSE(fake.List({"", "v1", "ConfigMap"}, set_based).ok());
}

TEST(FakeClusterClient, CrdsRegisterTheirKinds) {
  FakeClusterClient fake;
  EXPECT_FALSE(fake.Mapping({"example.com", "v1", "Widget"}).ok());
  ASSERT_TRUE(fake.Apply(Yaml(R"(apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets}
  versions: [{name: v1, served: true, storage: true}]
)"), {}).ok());
  Result<ResourceMapping> m = fake.Mapping({"example.com", "v1", "Widget"});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->resource, "widgets");
  EXPECT_TRUE(m->namespaced);
}

// The pattern other layers use: run an operation sequence once per possible
// failing call and check each failure surfaces as an error, with nothing
// applied after it.
TEST(FakeClusterClient, FailsAtEveryNthCall) {
  auto sequence = [](ClusterClient& client) -> Status {
    for (const char* name : {"a", "b", "c"}) {
      Node cm = Node::Mapping();
      cm.Set("apiVersion", Node::String("v1"));
      cm.Set("kind", Node::String("ConfigMap"));
      cm["metadata"] = Node::Mapping();
      cm["metadata"].Set("name", Node::String(name));
      Result<Node> r = client.Apply(cm, {});
      if (!r) return std::move(r).error();
    }
    Result<ListResult> l = client.List({"", "v1", "ConfigMap"}, {});
    if (!l) return std::move(l).error();
    return Status::Ok();
  };
  for (std::size_t n = 1; n <= 5; ++n) {
    SCOPED_TRACE(n);
    FakeClusterClient fake;
    fake.FailAtCall(n);
    Status s = sequence(fake);
    if (n <= 4) {
      ASSERT_FALSE(s.ok());
      EXPECT_EQ(s.error().message, "injected failure");
      EXPECT_EQ(fake.calls().size(), n);
      EXPECT_EQ(fake.StoredCount(), std::min<std::size_t>(n - 1, 3));
    } else {
      EXPECT_TRUE(s.ok());
      EXPECT_EQ(fake.StoredCount(), 3u);
    }
  }
}

TEST(FakeClusterClient, WatchDeliversTheCurrentList) {
  FakeClusterClient fake;
  fake.Seed(Yaml(kWeb));
  int resets = 0;
  Status s = fake.Watch({"apps", "v1", "Deployment"}, {}, [&resets](const WatchEvent& e) {
    resets += e.type == WatchEventType::kReset && e.items.size() == 1;
    return true;
  });
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(resets, 1);
}

}  // namespace
}  // namespace keelson::cluster
