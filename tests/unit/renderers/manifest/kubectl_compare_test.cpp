// Compares the emitter with `kubectl kustomize` on the same inputs: real
// manifests go through a trivial kustomization, which parses and re-emits
// them unchanged apart from style, the part under test.
#include <gtest/gtest.h>

#include "renderers/manifest/json.h"
#include "renderers/manifest/object.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace keelson::manifest {
namespace {

const char* const kDeployment = R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web, tier: "frontend"}
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx:1.25
        args: ["--port=8080", "--verbose", "yes"]
        ports:
        - containerPort: 8080
          protocol: TCP
        resources:
          limits: {cpu: 500m, memory: 128Mi}
        env:
        - name: MODE
          value: "0755"
        - name: EMPTY
          value: ""
        - name: GREETING
          value: "héllo wörld — ünïcödé ✓"
      volumes: []
      nodeSelector: {}
)";

const char* const kCrd = R"(apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        description: Widget is a very long description of a custom resource that goes on well past the eighty column limit so that it has to be folded by the emitter, and then continues further.
        properties:
          spec:
            type: object
            description: "A description with: a colon and # a hash, and 'quotes', long enough to be folded onto a second line by the emitter."
            properties:
              size: {type: integer, minimum: 1, maximum: 1e3}
              ratio: {type: number, default: 0.25}
)";

const char* const kConfigMap = R"(apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  nginx.conf: |
    server {
      listen 80;

      location / {
        return 200 'ok';
      }
    }
  trailing: "keep me\n\n"
  nolf: |-
    one
    two
  tabbed: "a\tb"
  spaces: "x  \ny"
  octal: "0755"
  bool: "yes"
  on: "on"
  num: "12"
  float: "1.5e3"
  star: "*glob"
  dash: "- item"
  date: "2024-05-01"
  tilde: "~"
)";

std::string KubectlRender(const std::string& manifest) {
  testing::TempDir dir;
  dir.Write("kustomization.yaml", "resources:\n- object.yaml\n");
  dir.Write("object.yaml", manifest);
  testing::ProcessResult r = testing::RunProgram({"kubectl", "kustomize", dir.path()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out;
}

std::string KeelsonRender(const std::string& manifest) {
  Result<ObjectList> objs = ParseObjects(manifest, "object.yaml");
  EXPECT_TRUE(objs.ok()) << (objs.ok() ? "" : objs.error().ToString());
  if (!objs.ok()) return "";
  for (Object& o : *objs) NormalizeJsonNumbers(o.node);
  return EmitObjects(*objs);
}

struct NamedManifest {
  const char* name;
  const char* text;
};

class KubectlCompare : public ::testing::TestWithParam<NamedManifest> {};

TEST_P(KubectlCompare, EmitterMatchesKubectlKustomize) {
  if (!testing::HaveProgram("kubectl")) GTEST_SKIP() << "kubectl is not on PATH";
  EXPECT_EQ(KeelsonRender(GetParam().text), KubectlRender(GetParam().text));
}

INSTANTIATE_TEST_SUITE_P(RealManifests, KubectlCompare,
                         ::testing::Values(NamedManifest{"Deployment", kDeployment}, NamedManifest{"Crd", kCrd},
                                           NamedManifest{"ConfigMap", kConfigMap}),
                         [](const ::testing::TestParamInfo<NamedManifest>& p) { return p.param.name; });

}  // namespace
}  // namespace keelson::manifest
