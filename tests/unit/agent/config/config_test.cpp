#include <gtest/gtest.h>

#include "agent/config/agent_config.h"
#include "agent/config/environment.h"
#include "agent/config/fields.h"

namespace keelson::config {
namespace {

const char* kConfig = R"(apiVersion: keelson.dev/v1alpha1
kind: AgentConfig
environment: prod
cluster:
  kubeconfig: /etc/keelson/kubeconfig
  qps: 20
stateDir: /var/lib/keelson
sources:
- name: platform
  url: ssh://git@git.example.com/platform.git
  ref: refs/heads/main
  interval: 2m
  auth:
    sshKeyFile: /etc/keelson/id_ed25519
    knownHostsFile: /etc/keelson/known_hosts
  trust:
    allowedSigners: /etc/keelson/allowed_signers
declaration:
  source: platform
  path: clusters/prod/keelson.yaml
)";

TEST(AgentConfig, ParsesWithDefaults) {
  Result<AgentConfig> c = ParseAgentConfig(kConfig, "agent.yaml");
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->environment, "prod");
  EXPECT_EQ(c->cluster.qps, 20);
  EXPECT_EQ(c->cluster.burst, 100);
  ASSERT_EQ(c->sources.size(), 1u);
  EXPECT_EQ(c->sources[0].interval, std::chrono::minutes(2));
  EXPECT_EQ(c->sources[0].trust.mode, "every-commit");
  EXPECT_EQ(c->audit.branch, "keelson/audit/prod");
  EXPECT_EQ(c->listen, "127.0.0.1:9440");
}

TEST(AgentConfig, UnknownFieldNamesFileLineAndPath) {
  std::string text = kConfig;
  text.replace(text.find("  interval: 2m"), 14, "  intervall: 2m");
  Result<AgentConfig> c = ParseAgentConfig(text, "agent.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().where.field, "sources[0].intervall");
  EXPECT_EQ(c.error().where.line, 12);
  EXPECT_NE(c.error().ToString().find("agent.yaml:12:3: sources[0].intervall: unknown field"), std::string::npos)
      << c.error().ToString();
}

TEST(AgentConfig, SshNeedsKnownHostsAndTrustIsRequired) {
  std::string no_hosts = kConfig;
  no_hosts.erase(no_hosts.find("    knownHostsFile"), std::string("    knownHostsFile: /etc/keelson/known_hosts\n").size());
  Result<AgentConfig> c = ParseAgentConfig(no_hosts, "a.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("known_hosts"), std::string::npos);

  std::string no_trust = kConfig;
  no_trust.erase(no_trust.find("  trust:"), std::string("  trust:\n    allowedSigners: /etc/keelson/allowed_signers\n").size());
  c = ParseAgentConfig(no_trust, "a.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().where.field, "sources[0].trust");
}

// The audit remote takes the same auth block as a source; SSH (also in
// scp form) needs known_hosts there too.
TEST(AgentConfig, AuditRemoteAuth) {
  std::string text = std::string(kConfig) +
                     "audit:\n  repository: git@git.example.com:platform/audit.git\n  signingKey: /etc/keelson/agent\n"
                     "  auth:\n    sshKeyFile: /etc/keelson/audit_key\n    knownHostsFile: /etc/keelson/known_hosts\n";
  Result<AgentConfig> c = ParseAgentConfig(text, "a.yaml");
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->audit.auth.ssh_key_file, "/etc/keelson/audit_key");
  EXPECT_EQ(c->audit.auth.known_hosts_file, "/etc/keelson/known_hosts");

  std::string no_hosts = text.substr(0, text.rfind("    knownHostsFile"));
  c = ParseAgentConfig(no_hosts, "a.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().where.field, "audit.auth.knownHostsFile") << c.error().ToString();

  // Git reads every scp form and ssh+git:// as SSH, so the configuration
  // does too (it once let these through without known_hosts).
  for (std::string url : {"git.example.com:platform/audit.git", "ssh+git://git.example.com/a.git"}) {
    std::string other = no_hosts;
    other.replace(other.find("git@git.example.com:platform/audit.git"),
                  std::string("git@git.example.com:platform/audit.git").size(), url);
    c = ParseAgentConfig(other, "a.yaml");
    ASSERT_FALSE(c.ok()) << url;
    EXPECT_EQ(c.error().where.field, "audit.auth.knownHostsFile") << c.error().ToString();
  }

  std::string typo = text;
  typo.replace(typo.find("    sshKeyFile: /etc/keelson/audit_key"), 14, "    sshKeyPath");
  c = ParseAgentConfig(typo, "a.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().where.field, "audit.auth.sshKeyPath") << c.error().ToString();
}

TEST(AgentConfig, BadValuesAreRejectedPerField) {
  std::string bad = kConfig;
  bad.replace(bad.find("interval: 2m"), 12, "interval: 2 minutes");
  Result<AgentConfig> c = ParseAgentConfig(bad, "a.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().where.field, "sources[0].interval");
  std::string wrong_source = kConfig;
  wrong_source.replace(wrong_source.find("source: platform"), 16, "source: other");
  c = ParseAgentConfig(wrong_source, "a.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().where.field, "declaration.source");
}

TEST(Duration, ParsesGoStyle) {
  EXPECT_EQ(*ParseDuration("90s"), std::chrono::seconds(90));
  EXPECT_EQ(*ParseDuration("1h30m"), std::chrono::minutes(90));
  EXPECT_EQ(*ParseDuration("250ms"), std::chrono::milliseconds(250));
  EXPECT_FALSE(ParseDuration("10").ok());
  EXPECT_FALSE(ParseDuration("1d").ok());
  // Malformed numbers are errors, never exceptions.
  EXPECT_FALSE(ParseDuration(".s").ok());
  EXPECT_FALSE(ParseDuration("1.2.3s").ok());
  EXPECT_FALSE(ParseDuration(std::string(400, '9') + "s").ok());
}

const char* kEnvironment = R"(apiVersion: keelson.dev/v1alpha1
kind: Environment
metadata:
  name: prod
spec:
  promotion:
    after: staging
  units:
  - name: infra
    path: infra
  - name: web
    path: apps/web/overlays/prod
    dependsOn: [infra]
    drift: correct
    healthTimeout: 90s
  - name: metrics
    renderer: helm
    path: charts/metrics
    values: [values/prod.yaml]
)";

TEST(Environment, ParsesUnits) {
  Result<EnvironmentSpec> env = ParseEnvironment(kEnvironment, "keelson.yaml", "platform");
  ASSERT_TRUE(env.ok()) << env.error().ToString();
  EXPECT_EQ(env->name, "prod");
  EXPECT_EQ(env->promote_after, "staging");
  ASSERT_EQ(env->units.size(), 3u);
  const UnitSpec* web = env->FindUnit("web");
  ASSERT_NE(web, nullptr);
  EXPECT_EQ(web->source, "platform");
  EXPECT_EQ(web->drift, DriftMode::kCorrect);
  EXPECT_EQ(web->health_timeout, std::chrono::seconds(90));
  EXPECT_EQ(web->depends_on, std::vector<std::string>{"infra"});
  EXPECT_EQ(env->FindUnit("metrics")->renderer, RendererKind::kHelm);
  EXPECT_EQ(env->FindUnit("metrics")->release, "metrics");
}

TEST(Environment, RejectsUnknownDependencyAndEscapingPath) {
  std::string text = kEnvironment;
  text.replace(text.find("[infra]"), 7, "[infrastructure]");
  Result<EnvironmentSpec> env = ParseEnvironment(text, "keelson.yaml", "platform");
  ASSERT_FALSE(env.ok());
  EXPECT_NE(env.error().message.find("\"infrastructure\" is not declared"), std::string::npos);

  text = kEnvironment;
  text.replace(text.find("path: infra"), 11, "path: ../../etc");
  env = ParseEnvironment(text, "keelson.yaml", "platform");
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(env.error().where.field, "spec.units[0].path");
  EXPECT_EQ(env.error().code, ErrorCode::kInvalidInput);
}

TEST(Environment, DuplicateUnitAndBadEnum) {
  std::string text = kEnvironment;
  text.replace(text.find("name: web"), 9, "name: infra");
  EXPECT_FALSE(ParseEnvironment(text, "k.yaml", "p").ok());
  text = kEnvironment;
  text.replace(text.find("drift: correct"), 14, "drift: fix");
  Result<EnvironmentSpec> env = ParseEnvironment(text, "k.yaml", "p");
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(env.error().where.field, "spec.units[1].drift");
  EXPECT_EQ(env.error().where.line, 14);
}

const char* kGated = R"(apiVersion: keelson.dev/v1alpha1
kind: Environment
metadata: {name: prod}
spec:
  policies:
    builtin: false
    directories: [policies, ./team/policies]
  gates:
    windows:
    - name: weekend
      kind: deny
      schedule: "0 18 * * 5"
      duration: 60h
      timeZone: UTC
  units:
  - name: web
    path: web
)";

TEST(Environment, ParsesPoliciesAndInlineGates) {
  Result<EnvironmentSpec> env = ParseEnvironment(kGated, "keelson.yaml", "platform");
  ASSERT_TRUE(env.ok()) << env.error().ToString();
  ASSERT_TRUE(env->policies.has_value());
  EXPECT_FALSE(env->policies->builtin);
  EXPECT_EQ(env->policies->directories, (std::vector<std::string>{"policies", "team/policies"}));
  ASSERT_TRUE(env->gates.has_value());
  ASSERT_EQ(env->gates->windows.size(), 1u);
  EXPECT_EQ(env->gates->windows[0].duration_seconds, 60 * 3600);
  EXPECT_TRUE(env->gated());
  // A promotion rule is a gate too (it is checked with the other gates).
  EXPECT_TRUE(ParseEnvironment(kEnvironment, "keelson.yaml", "platform")->gated());
  std::string plain = kEnvironment;
  std::size_t at = plain.find("  promotion:");
  ASSERT_NE(at, std::string::npos);
  plain.erase(at, plain.find("  units:") - at);
  Result<EnvironmentSpec> ungated = ParseEnvironment(plain, "keelson.yaml", "platform");
  ASSERT_TRUE(ungated.ok()) << ungated.error().ToString();
  EXPECT_FALSE(ungated->gated());
}

TEST(Environment, GatesFileAndFieldErrors) {
  std::string text = kGated;
  std::size_t from = text.find("  gates:"), to = text.find("  units:");
  text.replace(from, to - from, "  gates: gates/prod.yaml\n");
  Result<EnvironmentSpec> env = ParseEnvironment(text, "keelson.yaml", "p");
  ASSERT_TRUE(env.ok()) << env.error().ToString();
  EXPECT_EQ(env->gates_file, "gates/prod.yaml");
  EXPECT_FALSE(env->gates.has_value());

  text = kGated;
  text.replace(text.find("builtin: false"), 14, "builtins: false");
  env = ParseEnvironment(text, "keelson.yaml", "p");
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(env.error().where.field, "spec.policies.builtins");

  text = kGated;
  text.replace(text.find("0 18 * * 5"), 10, "0 25 * * 5");
  env = ParseEnvironment(text, "keelson.yaml", "p");
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(env.error().where.file, "keelson.yaml");
  EXPECT_EQ(env.error().where.line, 12);

  text = kGated;
  text.replace(text.find("[policies, ./team/policies]"), 27, "[../outside]");
  env = ParseEnvironment(text, "keelson.yaml", "p");
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(env.error().where.field, "spec.policies.directories");
}

}  // namespace
}  // namespace keelson::config

namespace keelson::config {
namespace {

TEST(AgentConfig, NotificationRoutes) {
  std::string text = std::string(kConfig) + R"(notifications:
  queueSize: 16
  routes:
  - name: oncall
    kind: pagerduty
    secretFile: /etc/keelson/pd-key
    units: [web]
    minSeverity: critical
  - name: chat
    kind: slack
    secretFile: /etc/keelson/slack-url
    retries: 0
    timeout: 2s
)";
  Result<AgentConfig> c = ParseAgentConfig(text, "agent.yaml");
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->notifications.queue_size, 16);
  ASSERT_EQ(c->notifications.routes.size(), 2u);
  EXPECT_EQ(c->notifications.routes[0].url, "https://events.pagerduty.com/v2/enqueue");
  EXPECT_EQ(c->notifications.routes[0].units, std::vector<std::string>{"web"});
  EXPECT_EQ(c->notifications.routes[0].min_severity, "critical");
  EXPECT_EQ(c->notifications.routes[1].retries, 0);
  EXPECT_EQ(c->notifications.routes[1].timeout, std::chrono::seconds(2));
}

TEST(AgentConfig, NotificationErrorsNameTheField) {
  auto error_of = [](const std::string& routes) {
    Result<AgentConfig> c = ParseAgentConfig(std::string(kConfig) + "notifications:\n  routes:\n" + routes, "a.yaml");
    return c.ok() ? std::string("ok") : c.error().ToString();
  };
  EXPECT_NE(error_of("  - name: x\n    kind: email\n    secretFile: f\n").find("notifications.routes[0].kind"),
            std::string::npos);
  EXPECT_NE(error_of("  - name: x\n    kind: webhook\n    secretFile: f\n").find("notifications.routes[0].url"),
            std::string::npos);
  EXPECT_NE(error_of("  - name: x\n    kind: slack\n    url: https://hooks.slack.com/x\n    secretFile: f\n")
                .find("secret"),
            std::string::npos);
  EXPECT_NE(error_of("  - name: x\n    kind: webhook\n    url: http://h/\n").find("secretFile"), std::string::npos);
  EXPECT_NE(error_of("  - name: x\n    kind: webhook\n    url: http://h/\n    secretFile: f\n    colour: red\n")
                .find("colour"),
            std::string::npos);
  std::string dup = "  - {name: x, kind: webhook, url: 'http://h/', secretFile: f}\n"
                    "  - {name: x, kind: webhook, url: 'http://h/', secretFile: f}\n";
  EXPECT_NE(error_of(dup).find("duplicate route name"), std::string::npos);
}

TEST(AgentConfig, LeaderElection) {
  Result<AgentConfig> plain = ParseAgentConfig(kConfig, "a.yaml");
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->leader_election.enabled);
  Result<AgentConfig> c = ParseAgentConfig(
      std::string(kConfig) + "leaderElection:\n  enabled: true\n  leaseName: keelson-prod\n  namespace: ops\n", "a.yaml");
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_TRUE(c->leader_election.enabled);
  EXPECT_EQ(c->leader_election.lease_name, "keelson-prod");
  EXPECT_EQ(c->leader_election.lease_namespace, "ops");
  Result<AgentConfig> bad =
      ParseAgentConfig(std::string(kConfig) + "leaderElection:\n  enabled: yes please\n", "a.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().ToString().find("leaderElection.enabled"), std::string::npos) << bad.error().ToString();
  Result<AgentConfig> upper = ParseAgentConfig(std::string(kConfig) + "leaderElection:\n  leaseName: Keelson\n", "a.yaml");
  ASSERT_FALSE(upper.ok());
  EXPECT_NE(upper.error().ToString().find("leaderElection.leaseName"), std::string::npos);
}

}  // namespace
}  // namespace keelson::config
