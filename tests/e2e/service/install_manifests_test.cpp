// The in-cluster install manifests render with `keelson render` and hold
// what a least-privilege, non-root install needs.
#include <gtest/gtest.h>

#include <map>

#include "renderers/manifest/filesystem.h"
#include "renderers/plain/plain_renderer.h"

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
