// The in-cluster install manifests render with `keelson render` and hold
// what a least-privilege, non-root install needs.
#include <gtest/gtest.h>

#include <cctype>
#include <cstring>
#include <map>

#include <nlohmann/json.hpp>

#include "renderers/manifest/filesystem.h"
#include "agent/server/metrics.h"
#include "renderers/plain/plain_renderer.h"
#include "tests/testing/temp_dir.h"

namespace keelson {
namespace {

TEST(InstallManifests, RenderAndAreLockedDown) {
  manifest::DiskFileSystem fs(std::string(KEELSON_SOURCE_DIR) + "/packaging/kubernetes");
  Result<manifest::ObjectList> objects = plain::RenderDirectory(fs, "");
  ASSERT_TRUE(objects.ok()) << objects.error().ToString();
  std::map<std::string, const manifest::Object*> by_kind;
  for (const manifest::Object& o : *objects) by_kind[o.id.kind + "/" + o.id.name] = &o;
  ASSERT_TRUE(by_kind.count("Deployment/keelson"));
  const manifest::Node& pod = *by_kind["Deployment/keelson"]->node.FindPath({"spec", "template", "spec"});
  EXPECT_TRUE(pod.FindPath({"securityContext", "runAsNonRoot"})->AsBool());
  const manifest::Node& container = pod.Find("containers")->items()[0];
  EXPECT_NE(container.Find("livenessProbe"), nullptr);
  EXPECT_NE(container.Find("readinessProbe"), nullptr);
  EXPECT_NE(container.FindPath({"resources", "limits"}), nullptr);
  EXPECT_FALSE(container.FindPath({"securityContext", "allowPrivilegeEscalation"})->AsBool());
  EXPECT_TRUE(by_kind.count("Service/keelson-metrics"));
  EXPECT_TRUE(by_kind.count("Role/keelson-agent"));
  // No wildcard rules anywhere.
  for (const manifest::Object& o : *objects) {
    const manifest::Node* rules = o.node.Find("rules");
    if (rules == nullptr) continue;
    for (const manifest::Node& rule : rules->items()) {
      for (const char* field : {"apiGroups", "resources", "verbs"}) {
        const manifest::Node* list = rule.Find(field);
        if (list == nullptr) continue;
        for (const manifest::Node& v : list->items()) EXPECT_NE(v.AsString(), "*") << o.id.ToString();
      }
    }
  }
}

}  // namespace
}  // namespace keelson

namespace keelson {
namespace {

// Every series the Grafana dashboard queries is one the agent exports.
TEST(GrafanaDashboard, QueriesOnlyExportedMetrics) {
  std::string text = testing::ReadFileOrDie(std::string(KEELSON_SOURCE_DIR) + "/packaging/grafana/keelson-dashboard.json");
  nlohmann::json dash = nlohmann::json::parse(text);
  server::MetricsRegistry registry;
  server::MetricsRegistry::DeclareAgentMetrics(registry);
  std::string exposition = registry.Exposition();
  std::size_t queries = 0;
  for (const auto& panel : dash["panels"]) {
    for (const auto& target : panel["targets"]) {
      std::string expr = target["expr"];
      ++queries;
      for (std::size_t at = expr.find("keelson_"); at != std::string::npos; at = expr.find("keelson_", at + 1)) {
        std::size_t end = at;
        while (end < expr.size() && (std::isalnum(static_cast<unsigned char>(expr[end])) || expr[end] == '_')) ++end;
        std::string name = expr.substr(at, end - at);
        for (const char* suffix : {"_bucket", "_sum", "_count"}) {
          if (name.ends_with(suffix) && exposition.find("# TYPE " + name.substr(0, name.size() - std::strlen(suffix)) +
                                                        " histogram") != std::string::npos) {
            name = name.substr(0, name.size() - std::strlen(suffix));
          }
        }
        EXPECT_NE(exposition.find("# TYPE " + name + " "), std::string::npos) << name << " in panel " << panel["title"];
        at = end;
      }
    }
  }
  EXPECT_GE(queries, 10u);
}

}  // namespace
}  // namespace keelson
