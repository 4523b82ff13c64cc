#include <gtest/gtest.h>

#include "agent/reconcile/wave_planner.h"

namespace keelson::reconcile {
namespace {

manifest::ObjectList Objects(const std::string& yaml) {
  Result<manifest::ObjectList> objs = manifest::ParseObjects(yaml, "unit.yaml");
  EXPECT_TRUE(objs.ok()) << (objs.ok() ? "" : objs.error().ToString());
  return objs.ok() ? std::move(objs).value() : manifest::ObjectList{};
}

std::vector<std::string> Labels(const std::vector<Wave>& waves) {
  std::vector<std::string> out;
  for (const Wave& w : waves) {
    std::string s = w.Label() + ":";
    for (const auto& o : w.objects) s += " " + o.id.kind + "/" + o.id.name;
    out.push_back(s);
  }
  return out;
}

TEST(WavePlanner, FoundationThenWavesThenKindOrder) {
  auto objs = Objects(R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: app}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  namespace: app
  annotations: {argocd.argoproj.io/sync-wave: "-1"}
---
apiVersion: v1
kind: Namespace
metadata: {name: app}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: late
  namespace: app
  annotations: {keelson.dev/wave: "5"}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: smoke
  namespace: app
  annotations: {argocd.argoproj.io/hook: PostSync}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: skipped
  annotations: {argocd.argoproj.io/hook: Skip}
)");
  Result<std::vector<Wave>> waves = PlanWaves(objs);
  ASSERT_TRUE(waves.ok()) << waves.error().ToString();
  EXPECT_EQ(Labels(*waves), (std::vector<std::string>{
                                "foundation: Namespace/app CustomResourceDefinition/widgets.example.com",
                                "wave -1: Job/migrate",
                                "wave 0: Service/web Deployment/web",
                                "wave 5: ConfigMap/late",
                                "postsync: Job/smoke",
                            }));
}

TEST(WavePlanner, BadWaveAnnotationNamesObject) {
  auto objs = Objects("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  annotations: {keelson.dev/wave: soon}\n");
  Result<std::vector<Wave>> waves = PlanWaves(objs);
  ASSERT_FALSE(waves.ok());
  EXPECT_NE(waves.error().message.find("v1/ConfigMap/x"), std::string::npos);
  EXPECT_EQ(waves.error().where.field, "metadata.annotations.keelson.dev/wave");
  EXPECT_EQ(waves.error().where.file, "unit.yaml");
}

TEST(WavePlanner, GenerateNameHooksAreRefusedClearly) {
  auto objs = Objects(
      "apiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: before-\n  annotations: {argocd.argoproj.io/hook: PreSync}\n");
  Result<std::vector<Wave>> waves = PlanWaves(objs);
  ASSERT_FALSE(waves.ok());
  EXPECT_NE(waves.error().message.find("generateName is not supported"), std::string::npos);
}

}  // namespace
}  // namespace keelson::reconcile
