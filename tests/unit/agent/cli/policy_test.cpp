// `keelson policy check` and `keelson policy test`, run as users run them.
#include <gtest/gtest.h>

#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace keelson {
namespace {

testing::ProcessResult Keelson(std::vector<std::string> args) {
  args.insert(args.begin(), KEELSON_BINARY);
  return testing::RunProgram(args);
}

constexpr std::string_view kGoodDeployment = R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {team: payments, owner: alice}
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      securityContext: {runAsNonRoot: true}
      containers:
      - name: app
        image: registry.example.com/shop/web:1.4.2
        resources:
          requests: {cpu: 100m, memory: 128Mi}
          limits: {cpu: "1", memory: 256Mi}
        livenessProbe: {httpGet: {path: /healthz, port: 8080}}
        readinessProbe: {httpGet: {path: /ready, port: 8080}}
)";

TEST(PolicyCli, CleanManifestsPass) {
  testing::TempDir dir;
  dir.Write("app/deploy.yaml", kGoodDeployment);
  testing::ProcessResult r = Keelson({"policy", "check", dir.path() + "/app"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("1 objects"), std::string::npos) << r.err;
}

TEST(PolicyCli, ViolationsPrintFileLinePolicyMessage) {
  testing::TempDir dir;
  std::string bad(kGoodDeployment);
  bad.replace(bad.find("registry.example.com/shop/web:1.4.2"), 35, "nginx:latest");
  dir.Write("app/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n");
  dir.Write("app/deploy.yaml", "# leading comment\n" + bad);
  testing::ProcessResult r = Keelson({"policy", "check", dir.path() + "/app"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.out, dir.path() + "/app/deploy.yaml:2: no-latest-tag: Deployment web: containers without a fixed image "
                                "tag: app (nginx:latest)\n");
  // In prod the digest and PDB policies apply too.
  r = Keelson({"policy", "check", "--env", "prod", dir.path() + "/app/deploy.yaml"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("deploy.yaml:2: prod-images-pinned-by-digest: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("deploy.yaml:2: prod-pod-disruption-budget: "), std::string::npos) << r.out;
}

// A chart directory is rendered with Helm, as the agent would render it.
TEST(PolicyCli, ChartsAreRenderedBeforeTheCheck) {
  testing::TempDir dir;
  dir.Write("chart/Chart.yaml", "apiVersion: v2\nname: web\nversion: 0.1.0\n");
  dir.Write("chart/values.yaml", "image: nginx:latest\n");
  std::string templated(kGoodDeployment);
  templated.replace(templated.find("registry.example.com/shop/web:1.4.2"), 35, "{{ .Values.image }}");
  templated.replace(templated.find("name: web"), 9, "name: {{ .Release.Name }}-web");
  dir.Write("chart/templates/deploy.yaml", templated);
  testing::ProcessResult r = Keelson({"policy", "check", dir.path() + "/chart"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("no-latest-tag: Deployment release-name-web: containers without a fixed image tag: app "
                       "(nginx:latest)"),
            std::string::npos)
      << r.out << r.err;
  dir.Write("chart/values.yaml", "image: registry.example.com/shop/web:1.4.2\n");
  r = Keelson({"policy", "check", dir.path() + "/chart"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("1 objects"), std::string::npos) << r.err;
}

TEST(PolicyCli, UserPoliciesAdjustAndAdd) {
  testing::TempDir dir;
  dir.Write("deploy.yaml", kGoodDeployment);
  dir.Write("policies/registries.yaml",
            "name: allowed-registries\nenabled: true\nparameters: {registries: [ghcr.io/example]}\n");
  dir.Write("policies/team.yaml",
            "name: team-is-known\nseverity: warn\ncheck: object.metadata.labels.team in ['search']\n"
            "message: 'unknown team {{ object.metadata.labels.team }}'\n");
  testing::ProcessResult r = Keelson({"policy", "check", "--policies", dir.path() + "/policies", dir.path() + "/deploy.yaml"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.out.find("deploy.yaml:1: allowed-registries: Deployment web: images from registries that are not "
                       "allowed (ghcr.io/example): registry.example.com/shop/web:1.4.2"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("deploy.yaml:1: team-is-known: warning: unknown team payments"), std::string::npos) << r.out;
  // Without the built-in library there is nothing to adjust.
  r = Keelson({"policy", "check", "--no-builtin", "--policies", dir.path() + "/policies", dir.path() + "/deploy.yaml"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("registries.yaml:1:1: check: is required"), std::string::npos) << r.err;
  // Warnings alone do not fail the check.
  dir.Write("own/team.yaml",
            "name: team-is-known\nseverity: warn\ncheck: object.metadata.labels.team in ['search']\n"
            "message: 'unknown team {{ object.metadata.labels.team }}'\n");
  r = Keelson({"policy", "check", "--no-builtin", "--policies", dir.path() + "/own", dir.path() + "/deploy.yaml"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("team-is-known: warning"), std::string::npos);
}

TEST(PolicyCli, InputErrorsExitTwoAndNameTheFile) {
  testing::TempDir dir;
  dir.Write("deploy.yaml", kGoodDeployment);
  dir.Write("policies/bad.yaml", "name: bad\ncheck: >-\n  object.kind ==\n    'Pod' && nope\n");
  testing::ProcessResult r = Keelson({"policy", "check", "--policies", dir.path() + "/policies", dir.path() + "/deploy.yaml"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "keelson: error: " + dir.path() + "/policies/bad.yaml:4:14: check: undeclared reference to 'nope'\n");
  EXPECT_EQ(Keelson({"policy", "check"}).exit_code, 2);
  EXPECT_EQ(Keelson({"policy", "check", dir.path() + "/missing.yaml"}).exit_code, 2);
  EXPECT_EQ(Keelson({"policy", "frob"}).exit_code, 2);
  EXPECT_EQ(Keelson({"policy"}).exit_code, 2);
  EXPECT_EQ(Keelson({"policy", "check", "--env"}).exit_code, 2);
  EXPECT_EQ(Keelson({"policy", "test"}).exit_code, 2);
}

TEST(PolicyCli, TestRunsFixtures) {
  testing::ProcessResult r = Keelson({"policy", "test", std::string(KEELSON_SOURCE_DIR) + "/policies/library"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find(" 0 failed\n"), std::string::npos) << r.out;

  testing::TempDir dir;
  dir.Write("p/policy.yaml", "name: p\ncheck: object.kind != 'Pod'\n");
  dir.Write("p/fixtures/pass-cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n");
  dir.Write("p/fixtures/fail-pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: c}\n");
  r = Keelson({"policy", "test", dir.path()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  dir.Write("p/fixtures/fail-cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n");
  r = Keelson({"policy", "test", dir.path() + "/p"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("FAIL p " + dir.path() + "/p/fixtures/fail-cm.yaml: expected a violation, got none"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("1 policies, 3 fixtures, 1 failed"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace keelson
