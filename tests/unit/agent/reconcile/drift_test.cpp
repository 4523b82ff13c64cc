#include <gtest/gtest.h>

#include "agent/reconcile/drift.h"
#include "renderers/manifest/yaml.h"

namespace keelson::reconcile {
namespace {

manifest::Node Yaml(const std::string& text) {
  Result<manifest::Node> n = manifest::ParseYaml(text, manifest::ParseOptions{});
  EXPECT_TRUE(n.ok());
  return n.ok() ? std::move(n).value() : manifest::Node();
}

const char* kApplied = R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 2
  template:
    spec:
      containers:
      - name: web
        image: nginx:1.25
        ports: [{containerPort: 80}]
)";

TEST(Drift, ServerDefaultsAndOtherFieldsAreNotDrift) {
  manifest::Node live = Yaml(R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web, uid: x, resourceVersion: "9", labels: {app: web}}
spec:
  replicas: 2
  revisionHistoryLimit: 10
  template:
    spec:
      containers:
      - name: web
        image: nginx:1.25
        imagePullPolicy: IfNotPresent
        ports: [{containerPort: 80, protocol: TCP}]
status: {readyReplicas: 2}
)");
  EXPECT_TRUE(FindDrift(Yaml(kApplied), live).empty());
}

TEST(Drift, ReportsEachChangedOwnedField) {
  manifest::Node live = Yaml(R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: other}}
spec:
  replicas: 5
  template:
    spec:
      containers:
      - name: web
        image: nginx:evil
        ports: [{containerPort: 80}]
)");
  std::vector<DriftedField> d = FindDrift(Yaml(kApplied), live);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].path, "metadata.labels.app");
  EXPECT_EQ(d[1].path, "spec.replicas");
  EXPECT_EQ(d[1].expected, "2");
  EXPECT_EQ(d[1].actual, "5");
  EXPECT_EQ(d[2].path, "spec.template.spec.containers[name=web].image");
}

TEST(Drift, MissingFieldsAndContainers) {
  manifest::Node live = Yaml("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers: [{name: sidecar, image: x}]\n");
  std::vector<DriftedField> d = FindDrift(Yaml(kApplied), live);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].path, "metadata.labels");
  EXPECT_EQ(d[0].actual, "<missing>");
  EXPECT_EQ(d[2].path, "spec.template.spec.containers[name=web]");
}

}  // namespace
}  // namespace keelson::reconcile
