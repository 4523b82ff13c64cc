// Policy files: loading, errors pointing into the file, matching,
// evaluation over a rendered set, and the fixture runner.
#include "policies/engine/policy.h"

#include <gtest/gtest.h>

#include <map>

#include "policies/engine/evaluate.h"
#include "policies/engine/fixtures.h"
#include "policies/library/builtin.h"
#include "renderers/manifest/object.h"

namespace keelson::policy {
namespace {

std::string LoadError(std::string_view text) {
  PolicySet set;
  Status s = set.AddFile(text, "p.yaml");
  return s.ok() ? "loaded" : s.error().ToString();
}

manifest::ObjectList Objects(std::string_view yaml) {
  Result<manifest::ObjectList> objects = manifest::ParseObjects(yaml, "m.yaml");
  EXPECT_TRUE(objects.ok()) << objects.error().ToString();
  return objects.ok() ? std::move(objects).value() : manifest::ObjectList{};
}

constexpr std::string_view kDeployment = R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {team: payments}
spec:
  replicas: 1
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: app
        image: nginx:latest
)";

TEST(PolicyLoad, MinimalPolicy) {
  PolicySet set;
  ASSERT_TRUE(set.AddFile("name: p\ncheck: object.kind != 'Pod'\n", "p.yaml").ok());
  ASSERT_EQ(set.policies().size(), 1u);
  const Policy& p = set.policies()[0];
  EXPECT_EQ(p.name, "p");
  EXPECT_EQ(p.severity, Severity::kDeny);
  EXPECT_TRUE(p.enabled);
  EXPECT_EQ(p.origin.file, "p.yaml");
  EXPECT_EQ(p.origin.line, 1);
}

TEST(PolicyLoad, FieldErrorsNameFileLineAndField) {
  EXPECT_EQ(LoadError("check: 'true'\n"), "p.yaml:1:1: name: is required");
  EXPECT_EQ(LoadError("name: Bad_Name\ncheck: true\n"), "p.yaml:1:7: name: must be 1-63 lowercase letters, digits and '-'");
  EXPECT_EQ(LoadError("name: p\nseverity: fatal\ncheck: 'true'\n"), "p.yaml:2:11: severity: must be deny or warn");
  EXPECT_EQ(LoadError("name: p\nchek: 'true'\n"),
            "p.yaml:2:7: chek: unknown field (expected name, description, severity, enabled, match, parameters, check "
            "or message)");
  EXPECT_EQ(LoadError("name: p\nmatch:\n  kind: [Pod]\ncheck: 'true'\n"),
            "p.yaml:3:9: match.kind: unknown field (expected kinds, namespaces, excludeNamespaces, labelSelector, "
            "environments or units)");
  EXPECT_EQ(LoadError("name: p\nmatch:\n  kinds: Pod\ncheck: 'true'\n"), "p.yaml:3:10: match.kinds: must be a list of strings");
  EXPECT_EQ(LoadError("name: p\nmatch:\n  labelSelector:\n    matchExpressions:\n    - {key: a, operator: Is}\n"
                      "check: 'true'\n"),
            "p.yaml:5:7: match.labelSelector.matchExpressions[0].operator: must be In, NotIn, Exists or DoesNotExist");
  EXPECT_EQ(LoadError("name: p\nparameters: [1]\ncheck: 'true'\n"), "p.yaml:2:13: parameters: must be a mapping");
  EXPECT_EQ(LoadError("name: p\n"),
            "p.yaml:1:1: check: is required (a document without check adjusts an existing policy, and there is no "
            "policy named \"p\")");
  EXPECT_EQ(LoadError("name: p\ncheck: 'true'\n---\nname: p\ncheck: 'false'\n"),
            "p.yaml:4:1: name: policy \"p\" is defined twice in this file");
  EXPECT_EQ(LoadError("name: p\ncheck: size(object)\n"), "p.yaml:2:8: check: must be a bool expression, found int");
  EXPECT_EQ(LoadError("- a\n"), "p.yaml:1:1: a policy must be a mapping with name and check");
}

TEST(PolicyLoad, ExpressionErrorsPointIntoTheFile) {
  // Plain scalar on the key's line.
  EXPECT_EQ(LoadError("name: p\ncheck: object.kind == 'Pod' && objet.x\n"),
            "p.yaml:2:32: check: undeclared reference to 'objet'");
  // Double-quoted scalar: columns count the opening quote.
  EXPECT_EQ(LoadError("name: p\ncheck: \"object.kind == 1 +\"\n"), "p.yaml:2:27: check: unexpected end of expression");
  // Literal block: lines map one to one.
  EXPECT_EQ(LoadError("name: p\ncheck: |\n  containers.all(c,\n    c.image.frob())\n"),
            "p.yaml:4:13: check: unknown method 'frob'");
  // Folded block: the line breaks became spaces, positions still map back.
  EXPECT_EQ(LoadError("name: p\ncheck: >-\n  containers.all(c,\n    has(c.image) &&\n    c.image ~ 'x')\n"),
            "p.yaml:5:13: check: unexpected character '~'");
  // Message placeholders.
  EXPECT_EQ(LoadError("name: p\ncheck: 'true'\nmessage: 'name {{ object.metadata.nme + }}'\n"),
            "p.yaml:3:41: message: unexpected end of expression");
  EXPECT_EQ(LoadError("name: p\ncheck: 'true'\nmessage: >-\n  first line\n  then {{ nope }}\n"),
            "p.yaml:5:11: message: undeclared reference to 'nope'");
  EXPECT_EQ(LoadError("name: p\ncheck: 'true'\nmessage: 'open {{ object'\n"), "p.yaml:3:16: message: '{{' without a closing '}}'");
}

TEST(PolicyLoad, AdjustingAPolicyKeepsItsCheck) {
  PolicySet set;
  ASSERT_TRUE(set.AddFile("name: regs\nenabled: false\nparameters: {registries: [], other: 1}\n"
                          "check: params.registries.size() > 0\n",
                          "builtin:regs/policy.yaml")
                  .ok());
  ASSERT_TRUE(set.AddFile("name: regs\nenabled: true\nseverity: warn\nparameters: {registries: [r.io]}\n", "mine.yaml").ok());
  const Policy* p = set.Find("regs");
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(p->enabled);
  EXPECT_EQ(p->severity, Severity::kWarn);
  EXPECT_EQ(p->parameters.Find("registries")->items().size(), 1u);
  EXPECT_NE(p->parameters.Find("other"), nullptr);
  EXPECT_EQ(p->origin.file, "builtin:regs/policy.yaml");
  // A document with a check replaces the policy whole.
  ASSERT_TRUE(set.AddFile("name: regs\ncheck: 'false'\n", "other.yaml").ok());
  EXPECT_EQ(set.Find("regs")->origin.file, "other.yaml");
  EXPECT_TRUE(set.Find("regs")->parameters.empty());
}

TEST(PolicyLoad, DirectorySkipsFixturesAndHiddenFiles) {
  manifest::MemoryFileSystem fs;
  fs.AddFile("a/policy.yaml", "name: a\ncheck: 'true'\n");
  fs.AddFile("a/fixtures/pass-x.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n");
  fs.AddFile(".hidden/policy.yaml", "not: [valid");
  fs.AddFile("b.yml", "name: b\ncheck: 'true'\n---\nname: c\ncheck: 'true'\n");
  fs.AddFile("notes.txt", "ignored");
  PolicySet set;
  Status s = set.AddDirectory(fs, "", "dir/");
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  ASSERT_EQ(set.policies().size(), 3u);
  EXPECT_EQ(set.policies()[0].origin.file, "dir/a/policy.yaml");
  fs.AddFile("z.yaml", "name: z\ncheck: nope\n");
  PolicySet broken;
  Status bad = broken.AddDirectory(fs, "", "dir/");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().ToString(), "dir/z.yaml:2:8: check: undeclared reference to 'nope'");
}

TEST(PolicyLoad, BuiltinLibraryLoads) {
  PolicySet set;
  Status s = AddBuiltinPolicies(set);
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  EXPECT_GE(set.policies().size(), 15u);
  EXPECT_EQ(BuiltinPolicyNames().size(), set.policies().size());
  for (const Policy& p : set.policies()) {
    EXPECT_FALSE(p.description.empty()) << p.name;
    EXPECT_FALSE(p.message.empty()) << p.name;
  }
  EXPECT_FALSE(set.Find("allowed-registries")->enabled);
}

TEST(PolicyMatch, KindsNamespacesSelectorsEnvironmentsUnits) {
  manifest::ObjectList objects = Objects(kDeployment);
  const manifest::Object& web = objects[0];
  CheckContext prod{"prod", "payments", {}};
  auto matches = [&](std::string_view match, const CheckContext& ctx) {
    PolicySet set;
    Status s = set.AddFile("name: p\ncheck: 'true'\nmatch:\n" + std::string(match), "p.yaml");
    EXPECT_TRUE(s.ok()) << s.error().ToString();
    return s.ok() && Matches(set.policies()[0], web, ctx);
  };
  EXPECT_TRUE(matches("  kinds: [Deployment]\n", prod));
  EXPECT_TRUE(matches("  kinds: [apps/Deployment]\n", prod));
  EXPECT_FALSE(matches("  kinds: [extensions/Deployment]\n", prod));
  EXPECT_FALSE(matches("  kinds: [Pod]\n", prod));
  EXPECT_TRUE(matches("  kinds: ['*']\n", prod));
  EXPECT_TRUE(matches("  namespaces: [sh*]\n", prod));
  EXPECT_FALSE(matches("  namespaces: [kube-*]\n", prod));
  EXPECT_FALSE(matches("  excludeNamespaces: [shop]\n", prod));
  EXPECT_TRUE(matches("  labelSelector: {matchLabels: {team: payments}}\n", prod));
  EXPECT_FALSE(matches("  labelSelector: {matchLabels: {team: search}}\n", prod));
  EXPECT_TRUE(matches("  labelSelector: {matchExpressions: [{key: team, operator: In, values: [payments, x]}]}\n", prod));
  EXPECT_FALSE(matches("  labelSelector: {matchExpressions: [{key: team, operator: NotIn, values: [payments]}]}\n", prod));
  EXPECT_TRUE(matches("  labelSelector: {matchExpressions: [{key: tier, operator: DoesNotExist}]}\n", prod));
  EXPECT_FALSE(matches("  labelSelector: {matchExpressions: [{key: tier, operator: Exists}]}\n", prod));
  EXPECT_TRUE(matches("  environments: [prod, production]\n", prod));
  EXPECT_FALSE(matches("  environments: [prod]\n", CheckContext{"staging", "", {}}));
  EXPECT_FALSE(matches("  environments: [prod]\n", CheckContext{}));
  EXPECT_TRUE(matches("  units: [pay*]\n", prod));
  EXPECT_FALSE(matches("  units: [search]\n", prod));
}

TEST(PolicyEvaluate, ViolationsCarryPolicyObjectAndMessage) {
  PolicySet set;
  ASSERT_TRUE(set.AddFile(R"(name: replicas
severity: warn
match: {kinds: [Deployment]}
parameters: {min: 2}
check: object.spec.replicas >= params.min
message: "{{ object.metadata.name }} has {{ object.spec.replicas }} < {{ params.min }} in {{ environment }}"
---
name: broken
check: object.spec.nothing == 1
---
name: not-bool
check: dyn(object.metadata.name)
---
name: passes
check: containers.size() == 1 && podSpec.containers[0].name == 'app'
)",
                          "p.yaml")
                  .ok());
  manifest::ObjectList objects = Objects(kDeployment);
  CheckResult r = CheckObjects(set, objects, CheckContext{"prod", "", {}});
  EXPECT_EQ(r.evaluations, 4u);
  ASSERT_EQ(r.violations.size(), 3u);
  EXPECT_EQ(r.violations[0].policy, "replicas");
  EXPECT_EQ(r.violations[0].severity, Severity::kWarn);
  EXPECT_EQ(r.violations[0].message, "web has 1 < 2 in prod");
  EXPECT_EQ(r.violations[0].origin.file, "m.yaml");
  EXPECT_EQ(r.violations[0].origin.line, 1);
  EXPECT_EQ(r.violations[0].object.name, "web");
  EXPECT_FALSE(r.violations[0].error);
  EXPECT_EQ(r.violations[1].message, "check failed to evaluate: no such key 'nothing' (guard with has())");
  EXPECT_TRUE(r.violations[1].error);
  EXPECT_EQ(r.violations[2].message, "check returned string, not bool");
  EXPECT_TRUE(r.denied());
  Decision d = DecisionFor(r);
  EXPECT_EQ(d.verdict, Verdict::kDeny);
  EXPECT_FALSE(d.may_pass_later());
  ASSERT_EQ(d.reasons.size(), 3u);
  EXPECT_EQ(d.reasons[0].verdict, Verdict::kWarn);
  EXPECT_EQ(d.reasons[0].message, "m.yaml:1: Deployment/web: web has 1 < 2 in prod");
  EXPECT_EQ(DecisionFor(CheckResult{}).verdict, Verdict::kAllow);
}

TEST(PolicyEvaluate, RelatedSeesTheRenderedSetInTheSameNamespace) {
  PolicySet set;
  ASSERT_TRUE(set.AddFile("name: has-service\nmatch: {kinds: [Deployment]}\n"
                          "check: related('Service').exists(s, s.spec.selector == object.spec.template.metadata.labels)\n",
                          "p.yaml")
                  .ok());
  std::string service = "---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: NS}\nspec:\n  selector: {app: web}\n";
  auto with_ns = [&](std::string ns) {
    std::string s = service;
    s.replace(s.find("NS"), 2, ns);
    return CheckObjects(set, Objects(std::string(kDeployment) + s), {}).violations.size();
  };
  EXPECT_EQ(with_ns("shop"), 0u);
  EXPECT_EQ(with_ns("other"), 1u);
}

TEST(PolicyEvaluate, SelectingFindsObjectsWhoseSelectorSelectsTheLabels) {
  PolicySet set;
  ASSERT_TRUE(set.AddFile("name: covered\nmatch: {kinds: [Deployment]}\n"
                          "check: size(selecting('PodDisruptionBudget', object.spec.template.metadata.labels)) > 0 && "
                          "size(selecting('Service', object.spec.template.metadata.labels)) > 0\n",
                          "p.yaml")
                  .ok());
  auto violations = [&](std::string pdb_selector, std::string service_selector) {
    std::string yaml = std::string(kDeployment) +
                       "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: p, namespace: shop}\n"
                       "spec:\n  selector: " + pdb_selector +
                       "\n---\napiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: shop}\nspec:\n  selector: " +
                       service_selector + "\n";
    return CheckObjects(set, Objects(yaml), {}).violations.size();
  };
  EXPECT_EQ(violations("{matchLabels: {app: web}}", "{app: web}"), 0u);
  EXPECT_EQ(violations("{}", "{app: web}"), 0u);  // an empty label selector selects every pod
  EXPECT_EQ(violations("{matchExpressions: [{key: app, operator: In, values: [web, api]}]}", "{app: web}"), 0u);
  EXPECT_EQ(violations("{matchLabels: {app: api}}", "{app: web}"), 1u);
  EXPECT_EQ(violations("{matchLabels: {app: web}, matchExpressions: [{key: tier, operator: Exists}]}", "{app: web}"), 1u);
  EXPECT_EQ(violations("{matchLabels: {app: web}}", "{}"), 1u);  // an empty Service selector selects nothing
  EXPECT_EQ(violations("{matchLabels: {app: web}}", "{app: web, tier: db}"), 1u);
}

TEST(PolicyEvaluate, PodSpecsOfEveryWorkloadKind) {
  auto pod_spec_name = [](std::string_view yaml) {
    manifest::ObjectList objects = Objects(yaml);
    const manifest::Node* spec = PodSpecOf(objects[0].node);
    return spec == nullptr ? std::string("none") : spec->FindPath({"containers"})->items()[0].GetString("name");
  };
  EXPECT_EQ(pod_spec_name("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a}]}\n"), "a");
  for (std::string kind : {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ReplicationController"}) {
    EXPECT_EQ(pod_spec_name("apiVersion: v1\nkind: " + kind + "\nmetadata: {name: p}\n"
                            "spec: {template: {spec: {containers: [{name: b}]}}}\n"),
              "b")
        << kind;
  }
  EXPECT_EQ(pod_spec_name("apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: p}\n"
                          "spec: {jobTemplate: {spec: {template: {spec: {containers: [{name: c}]}}}}}\n"),
            "c");
  EXPECT_EQ(pod_spec_name("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: p}\n"), "none");
}

TEST(PolicyEvaluate, ImageReferences) {
  auto parts = [](std::string_view image) {
    ImageReference r = ParseImageReference(image);
    return r.registry + "|" + r.repository + "|" + r.tag + "|" + r.digest;
  };
  EXPECT_EQ(parts("nginx"), "docker.io|library/nginx||");
  EXPECT_EQ(parts("nginx:1.25"), "docker.io|library/nginx|1.25|");
  EXPECT_EQ(parts("bitnami/redis:7"), "docker.io|bitnami/redis|7|");
  EXPECT_EQ(parts("registry.example.com/a/b:1@sha256:ab"), "registry.example.com|a/b|1|sha256:ab");
  EXPECT_EQ(parts("localhost:5000/app"), "localhost:5000|app||");
  EXPECT_EQ(parts("localhost/app:2"), "localhost|app|2|");
  EXPECT_EQ(parts("ghcr.io/org/app@sha256:cd"), "ghcr.io|org/app||sha256:cd");
}

TEST(PolicyEvaluate, Globs) {
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("prod-*", "prod-eu"));
  EXPECT_FALSE(GlobMatch("prod-*", "staging"));
  EXPECT_TRUE(GlobMatch("a?c*e", "abcdde"));
  EXPECT_FALSE(GlobMatch("a*b*c", "aXbXd"));
}

TEST(Fixtures, ReportsMismatchesAndMissingFixtures) {
  manifest::MemoryFileSystem fs;
  fs.AddFile("lib/one-replica/policy.yaml",
             "name: one-replica\nmatch: {kinds: [Deployment]}\ncheck: object.spec.replicas == 1\n"
             "message: 'replicas is {{ object.spec.replicas }}'\n");
  std::string deploy = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {replicas: N}\n";
  auto with = [&](std::string n) {
    std::string copy = deploy;
    return copy.replace(copy.find('N'), 1, n);
  };
  fs.AddFile("lib/one-replica/fixtures/pass-one.yaml", with("1"));
  fs.AddFile("lib/one-replica/fixtures/fail-two.yaml",
             "apiVersion: keelson.dev/v1alpha1\nkind: PolicyFixture\nexpect: {violations: 1, message: 'is 2'}\n---\n" +
                 with("2"));
  fs.AddFile("lib/one-replica/fixtures/fail-wrong.yaml", with("1"));
  fs.AddFile("lib/one-replica/fixtures/fail-message.yaml",
             "apiVersion: keelson.dev/v1alpha1\nkind: PolicyFixture\nexpect: {message: 'is 9'}\n---\n" + with("3"));
  fs.AddFile("lib/one-replica/fixtures/pass-wrong.yaml", with("5"));
  Result<FixtureReport> report = RunFixtures(fs, "lib", "L/");
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  EXPECT_EQ(report->policies, 1u);
  ASSERT_EQ(report->outcomes.size(), 5u);
  EXPECT_EQ(report->failures(), 3u);
  std::map<std::string, std::string> by_file;
  for (const FixtureOutcome& o : report->outcomes) by_file[o.file] = (o.passed ? "ok: " : "FAIL: ") + o.detail;
  EXPECT_EQ(by_file["L/lib/one-replica/fixtures/pass-one.yaml"], "ok: no violations");
  EXPECT_EQ(by_file["L/lib/one-replica/fixtures/fail-two.yaml"], "ok: 1 violation(s): replicas is 2");
  EXPECT_EQ(by_file["L/lib/one-replica/fixtures/fail-wrong.yaml"], "FAIL: expected a violation, got none (1 objects checked)");
  EXPECT_EQ(by_file["L/lib/one-replica/fixtures/fail-message.yaml"],
            "FAIL: expected the message to contain \"is 9\", got: replicas is 3");
  EXPECT_EQ(by_file["L/lib/one-replica/fixtures/pass-wrong.yaml"], "FAIL: expected to pass, got: replicas is 5");

  manifest::MemoryFileSystem lonely;
  lonely.AddFile("p/policy.yaml", "name: p\ncheck: 'true'\n");
  lonely.AddFile("p/fixtures/pass-a.yaml", with("1"));
  Result<FixtureReport> missing = RunFixtures(lonely, "p");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().ToString(), "p/fixtures: policy \"p\" needs at least one pass-*.yaml and one fail-*.yaml fixture");
}

}  // namespace
}  // namespace keelson::policy
