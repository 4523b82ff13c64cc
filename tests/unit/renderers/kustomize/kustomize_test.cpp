// Kustomize renderer behaviour from inline literals. Expected outputs were
// produced with `kubectl kustomize` (Kustomize v5.5.0) on the same inputs.
#include "renderers/kustomize/kustomize.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "renderers/kustomize/internal.h"
#include "renderers/manifest/filesystem.h"
#include "renderers/manifest/yaml.h"
#include "tests/testing/temp_dir.h"

namespace keelson::kustomize {
namespace {

using manifest::MemoryFileSystem;
using manifest::Node;

std::string Render(const manifest::FileSystem& fs, std::string_view dir) {
  Result<std::string> out = RenderKustomizationYaml(fs, dir);
  EXPECT_TRUE(out.ok()) << (out.ok() ? "" : out.error().ToString());
  return out.ok() ? *out : "";
}

Error RenderError(const manifest::FileSystem& fs, std::string_view dir) {
  Result<std::string> out = RenderKustomizationYaml(fs, dir);
  EXPECT_FALSE(out.ok()) << "rendered unexpectedly:\n" << (out.ok() ? *out : "");
  return out.ok() ? Error{} : out.error();
}

Node Yaml(std::string_view text) {
  manifest::ParseOptions options;
  Result<Node> n = manifest::ParseYaml(text, options);
  EXPECT_TRUE(n.ok());
  return n.ok() ? *n : Node();
}

TEST(KustomizeHash, GeneratedNamesMatchKustomize) {
  MemoryFileSystem fs;
  fs.AddFile("kustomization.yaml",
             "configMapGenerator:\n- name: cm\n  literals:\n  - a=b\n"
             "secretGenerator:\n- name: s\n  literals:\n  - k=v\n");
  EXPECT_EQ(Render(fs, ""),
            "apiVersion: v1\ndata:\n  a: b\nkind: "
            "ConfigMap\nmetadata:\n  name: cm-4h2mbtbbt6\n"
            "---\n"
            "apiVersion: v1\ndata:\n  k: dg==\nkind: "
            "Secret\nmetadata:\n  name: s-ftgtgc4t9f\n"
            "type: Opaque\n");
}

TEST(KustomizeHash, Sha256OfKnownInputs) {
  EXPECT_EQ(internal::Sha256Hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(internal::Sha256Hex(std::string(64, 'a')),
            "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
  EXPECT_EQ(internal::Base64Encode("ab"), "YWI=");
  EXPECT_EQ(internal::GoJsonQuote("<a&b>\n"), "\"\\u003ca\\u0026b\\u003e\\n\"");
}

TEST(KustomizeStrategicMerge, DirectivesAndNameReferences) {
  MemoryFileSystem fs;
  fs.AddFile("kustomization.yaml", R"(resources:
- dep.yaml
namePrefix: p-
patches:
- patch: |-
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
    spec:
      template:
        metadata:
          labels: null
        spec:
          containers:
          - name: sidecar
            $patch: delete
          - name: app
            image: app:2
          - name: extra
            image: extra:1
          nodeSelector:
            $patch: replace
            disk: ssd
)");
  fs.AddFile("dep.yaml", R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    metadata:
      labels:
        a: b
    spec:
      nodeSelector:
        zone: x
      containers:
      - name: app
        image: app:1
        envFrom:
        - configMapRef:
            name: cfg
      - name: sidecar
        image: side:1
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
)");
  EXPECT_EQ(Render(fs, ""), R"(apiVersion: v1
kind: ConfigMap
metadata:
  name: p-cfg
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: p-web
spec:
  template:
    metadata: {}
    spec:
      containers:
      - envFrom:
        - configMapRef:
            name: p-cfg
        image: app:2
        name: app
      - image: extra:1
        name: extra
      nodeSelector:
        disk: ssd
)");
}

TEST(KustomizeStrategicMerge, ListsWithoutMergeKeyAreReplaced) {
  Node target = Yaml(
      "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - "
      "name: a\n    args: [x, y]\n");
  Node patch = Yaml("spec:\n  containers:\n  - name: a\n    args: [z]\n");
  bool keep = false;
  ASSERT_TRUE(internal::StrategicMerge(target, patch, nullptr, &keep).ok());
  EXPECT_TRUE(keep);
  EXPECT_EQ(manifest::EmitYaml(target),
            "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - args:\n    - "
            "z\n    name: a\n");
}

TEST(KustomizeStrategicMerge, PatchDeleteRemovesTheObject) {
  Node target = Yaml("apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n");
  Node patch = Yaml("$patch: delete\n");
  bool keep = true;
  ASSERT_TRUE(internal::StrategicMerge(target, patch, nullptr, &keep).ok());
  EXPECT_FALSE(keep);
}

TEST(KustomizeJsonPatch, OperationsApplyInOrder) {
  Node target = Yaml("a:\n  b: [1, 2]\n");
  Node ops = Yaml(R"([{"op": "add", "path": "/a/b/-", "value": 3},
                      {"op": "replace", "path": "/a/b/0", "value": 0},
                      {"op": "move", "from": "/a/b", "path": "/c"},
                      {"op": "test", "path": "/c/2", "value": 3}])");
  ASSERT_TRUE(internal::ApplyJsonPatch(target, ops).ok());
  EXPECT_EQ(manifest::EmitYaml(target), "a: {}\nc:\n- 0\n- 2\n- 3\n");
  Status bad = internal::ApplyJsonPatch(target, Yaml(R"([{"op": "remove", "path": "/nope"}])"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("/nope"), std::string::npos);
}

// The document root "" as a patch path, as `kubectl kustomize` treats it:
// replace takes a whole new resource (and ignores a scalar), while add,
// move, copy and remove fail. A generated ConfigMap once crashed the build
// here when a patch turned it into a scalar before its name got a hash.
TEST(KustomizeJsonPatch, TheDocumentRootAsPath) {
  auto build = [](std::string_view op) {
    MemoryFileSystem fs;
    fs.AddFile("kustomization.yaml", std::string(R"(configMapGenerator:
- name: cm
  literals: [a=b]
patches:
- target: {kind: ConfigMap}
  patch: |-
    - )") + std::string(op) + "\n");
    return RenderKustomizationYaml(fs, "");
  };
  Result<std::string> ignored = build("{op: replace, path: '', value: x}");
  ASSERT_TRUE(ignored.ok()) << ignored.error().ToString();
  EXPECT_EQ(*ignored, "apiVersion: v1\ndata:\n  a: b\nkind: ConfigMap\nmetadata:\n  name: cm-4h2mbtbbt6\n");
  for (std::string_view op : {"{op: add, path: '', value: [1]}", "{op: move, from: /data, path: ''}",
                              "{op: copy, from: /data, path: ''}", "{op: remove, path: ''}",
                              "{op: replace, path: '', value: [1]}",
                              "{op: replace, path: '', value: {kind: Foo}}"}) {
    Result<std::string> out = build(op);
    ASSERT_FALSE(out.ok()) << op << " rendered:\n" << *out;
    EXPECT_NE(out.error().message.find("ConfigMap"), std::string::npos) << out.error().message;
  }
  MemoryFileSystem fs;
  fs.AddFile("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n");
  fs.AddFile("kustomization.yaml", R"(resources: [cm.yaml]
patches:
- target: {kind: ConfigMap}
  patch: |-
    - {op: replace, path: '', value: {apiVersion: v1, kind: Secret, metadata: {name: s}}}
)");
  EXPECT_EQ(Render(fs, ""), "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n");
}

// kubectl kustomize: "missing metadata.name in object".
TEST(KustomizeReplacements, ReplacingMetadataWithAScalarIsAnError) {
  MemoryFileSystem fs;
  fs.AddFile("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: src\ndata:\n  a: b\n");
  fs.AddFile("kustomization.yaml", R"(resources: [cm.yaml]
configMapGenerator:
- name: gen
  literals: [x=y]
replacements:
- source: {kind: ConfigMap, name: src, fieldPath: data.a}
  targets:
  - select: {name: gen}
    fieldPaths: [metadata]
)");
  Error e = RenderError(fs, "");
  EXPECT_NE(e.message.find("ConfigMap.v1.[noGrp]/gen.[noNs] with no metadata.name"),
            std::string::npos)
      << e.message;
}

TEST(KustomizeTargets, NameRegexAndLabelSelector) {
  MemoryFileSystem fs;
  fs.AddFile("kustomization.yaml", R"(resources:
- cms.yaml
patches:
- target:
    kind: ConfigMap
    name: app-.*
    labelSelector: tier in (web,api),!legacy
  patch: |-
    - op: add
      path: /data/patched
      value: "yes"
)");
  fs.AddFile("cms.yaml", R"(apiVersion: v1
kind: ConfigMap
metadata: {name: app-a, labels: {tier: web}}
data: {}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: app-b, labels: {tier: api, legacy: "true"}}
data: {}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: other, labels: {tier: web}}
data: {}
)");
  Result<std::vector<Node>> docs = BuildKustomization(fs, "");
  ASSERT_TRUE(docs.ok()) << docs.error().ToString();
  std::vector<std::string> patched;
  for (const Node& d : *docs) {
    if (d.FindPath({"data", "patched"}) != nullptr)
      patched.push_back(d.FindPath({"metadata", "name"})->AsString());
  }
  EXPECT_EQ(patched, (std::vector<std::string>{"app-a"}));
}

TEST(KustomizeLoad, OverlayOfBaseWithNamespaceAndLabels) {
  MemoryFileSystem fs;
  fs.AddFile("base/kustomization.yaml", "resources:\n- svc.yaml\n");
  fs.AddFile("base/svc.yaml",
             "apiVersion: v1\nkind: Service\nmetadata:\n  "
             "name: web\nspec:\n  ports:\n  - port: 80\n");
  fs.AddFile("envs/prod/kustomization.yaml",
             "resources:\n- ../../base\nnamespace: prod\ncommonLabels:\n  env: "
             "prod\n");
  EXPECT_EQ(Render(fs, "envs/prod"), R"(apiVersion: v1
kind: Service
metadata:
  labels:
    env: prod
  name: web
  namespace: prod
spec:
  ports:
  - port: 80
  selector:
    env: prod
)");
}

TEST(KustomizeErrors, UnknownFieldNamesFileAndField) {
  MemoryFileSystem fs;
  fs.AddFile("app/kustomization.yaml", "resources: []\nnamePrefx: x-\n");
  Error e = RenderError(fs, "app");
  EXPECT_EQ(e.where.file, "/app/kustomization.yaml");
  EXPECT_EQ(e.where.field, "namePrefx");
  EXPECT_EQ(e.where.line, 2);
  EXPECT_NE(e.message.find("unknown field \"namePrefx\""), std::string::npos);
}

TEST(KustomizeErrors, MissingResourceNamesTheEntry) {
  MemoryFileSystem fs;
  fs.AddFile("kustomization.yaml", "resources:\n- here.yaml\n- gone.yaml\n");
  fs.AddFile("here.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n");
  Error e = RenderError(fs, "");
  EXPECT_EQ(e.code, ErrorCode::kNotFound);
  EXPECT_EQ(e.where.field, "resources[1]");
  EXPECT_EQ(e.where.line, 3);
  EXPECT_NE(e.message.find("gone.yaml"), std::string::npos);
}

TEST(KustomizeErrors, PatchTargetNotFound) {
  MemoryFileSystem fs;
  fs.AddFile("kustomization.yaml",
             "resources:\n- cm.yaml\npatchesStrategicMerge:\n- |-\n  "
             "apiVersion: v1\n  kind: "
             "ConfigMap\n  metadata:\n    name: other\n");
  fs.AddFile("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n");
  Error e = RenderError(fs, "");
  EXPECT_EQ(e.where.field, "patchesStrategicMerge[0]");
  EXPECT_NE(e.message.find("no matches for Id ConfigMap.v1.[noGrp]/other.[noNs]"),
            std::string::npos);
}

TEST(KustomizeErrors, CycleBetweenKustomizations) {
  MemoryFileSystem fs;
  fs.AddFile("a/kustomization.yaml", "resources:\n- ../b\n");
  fs.AddFile("b/kustomization.yaml", "resources:\n- ../a\n");
  Error e = RenderError(fs, "a");
  EXPECT_NE(e.message.find("cycle detected"), std::string::npos) << e.ToString();
  EXPECT_NE(e.message.find("/a"), std::string::npos);
}

TEST(KustomizeErrors, RemoteResourcesRefused) {
  MemoryFileSystem fs;
  fs.AddFile("kustomization.yaml", "resources:\n- https://github.com/org/repo//base?ref=v1\n");
  Error e = RenderError(fs, "");
  EXPECT_NE(e.message.find("remote resource"), std::string::npos);
  EXPECT_EQ(e.where.field, "resources[0]");
}

TEST(KustomizeLoadRestrictor, FileAboveTheKustomizationIsRefused) {
  MemoryFileSystem fs;
  fs.AddFile("shared/patch.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n");
  fs.AddFile("app/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n");
  fs.AddFile("app/kustomization.yaml",
             "resources:\n- cm.yaml\npatches:\n- path: ../shared/patch.yaml\n");
  Error e = RenderError(fs, "app");
  EXPECT_EQ(e.code, ErrorCode::kAccessDenied);
  EXPECT_NE(e.message.find("'/shared/patch.yaml' is not in or below '/app'"), std::string::npos)
      << e.message;
}

TEST(KustomizeLoadRestrictor, DotDotOutOfTheRootIsRefused) {
  MemoryFileSystem fs;
  fs.AddFile("kustomization.yaml", "resources:\n- ../../etc/passwd\n");
  Error e = RenderError(fs, "");
  EXPECT_EQ(e.code, ErrorCode::kAccessDenied);
  EXPECT_NE(e.message.find("../../etc/passwd"), std::string::npos);
}

TEST(KustomizeLoadRestrictor, SymlinkOutOfTheRootIsRefused) {
  testing::TempDir outside;
  outside.Write("secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n");
  testing::TempDir repo;
  repo.Write("kustomization.yaml", "resources:\n- link.yaml\n");
  std::filesystem::create_symlink(outside.path() + "/secret.yaml", repo.path() + "/link.yaml");
  manifest::DiskFileSystem fs(repo.path());
  Result<std::string> out = RenderKustomizationYaml(fs, "");
  ASSERT_FALSE(out.ok()) << *out;
  EXPECT_EQ(out.error().where.field, "resources[0]");
}

TEST(KustomizeOrder, LegacyKindOrder) {
  MemoryFileSystem fs;
  fs.AddFile("kustomization.yaml", "resources:\n- all.yaml\n");
  fs.AddFile("all.yaml",
             "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n---\n"
             "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: n\n---\n"
             "apiVersion: admissionregistration.k8s.io/v1\nkind: "
             "ValidatingWebhookConfiguration\n"
             "metadata:\n  name: w\n---\n"
             "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n");
  Result<std::vector<Node>> docs = BuildKustomization(fs, "");
  ASSERT_TRUE(docs.ok()) << docs.error().ToString();
  std::vector<std::string> kinds;
  for (const Node& d : *docs) kinds.push_back(d.GetString("kind"));
  EXPECT_EQ(kinds, (std::vector<std::string>{"Namespace", "Service", "Deployment",
                                             "ValidatingWebhookConfiguration"}));
}

}  // namespace
}  // namespace keelson::kustomize
