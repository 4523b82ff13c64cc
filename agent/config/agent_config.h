// The agent's own configuration file (`keelson agent --config FILE`): which
// cluster, which sources, where the environment declaration lives, where the
// audit trail goes. Every field is documented in docs/configuration.md with
// its default. Validation is strict and per field (agent_config.cpp).
//
// The units themselves are not configured here: they are declared in Git
// (environment.h), so changing them is a signed commit like any other change.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "renderers/manifest/result.h"

namespace keelson::config {

struct ClusterConfig {
  // Path to a kubeconfig; empty with in_cluster=false means $KUBECONFIG or
  // ~/.kube/config.
  std::string kubeconfig;
  std::string context;      // empty: the kubeconfig's current-context
  bool in_cluster = false;  // use the pod's service account instead
  double qps = 50;          // client-side rate limit
  int burst = 100;
  // Take ownership of fields another manager owns (server-side apply
  // force). Off: a conflict fails the wave and is reported.
  bool force_conflicts = false;
};

struct SourceAuth {
  std::string ssh_key_file;      // private key for ssh:// remotes
  std::string known_hosts_file;  // host keys for ssh:// (checked; required for ssh)
  std::string username;          // https basic auth user
  std::string password_file;     // https basic auth password, or a token
  std::string ca_file;           // extra CA bundle for https remotes
};

struct SourceTrust {
  // "every-commit" (default): every commit in (last applied, new] must be
  // signed by an allowed signer; "head": only the new revision; "tag": the
  // revision must be a signed tag; "none": no signature checks (refused
  // unless explicitly chosen).
  std::string mode = "every-commit";
  bool first_parent = true;     // every-commit: walk first parents only
  std::string allowed_signers;  // OpenSSH allowed_signers file
  std::string openpgp_keyring;  // armored OpenPGP public keys
  std::string x509_roots;       // PEM root certificates for gpgsm signatures
  std::string policy;           // trust policy file (signers per path prefix)
};

struct SourceConfig {
  std::string name;  // referred to by the declaration and units
  std::string url;   // git://, https://, ssh://, file:// or a local path
  // What to track: a full ref name ("refs/heads/main") or a semver range
  // over tags ("semver:>=1.2.0 <2.0.0").
  std::string ref = "refs/heads/main";
  std::chrono::milliseconds interval{std::chrono::seconds(60)};  // poll period (jittered ±10%)
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};   // one fetch
  SourceAuth auth;
  SourceTrust trust;
  // Push webhooks at /hooks/<name>: "github" (X-Hub-Signature-256),
  // "gitlab" (X-Gitlab-Token), "gitea" (X-Gitea-Signature) or "generic"
  // (HMAC-SHA256 of the body in X-Keelson-Signature-256). Empty: no webhook.
  std::string webhook_kind;
  std::string webhook_secret_file;  // the shared secret; at least 16 bytes
};

struct DeclarationRef {
  std::string source;  // a SourceConfig name
  std::string path;    // file in that source, e.g. clusters/prod/keelson.yaml
};

struct AuditConfig {
  // Where records are committed and pushed: a URL or a local path. Empty
  // keeps the trail only in the state directory's local audit repository.
  std::string repository;
  std::string branch;       // default keelson/audit/<environment>
  std::string signing_key;  // the agent's OpenSSH ed25519 private key
  // OpenSSH allowed_signers file with the keys of the agents whose audit
  // trails count as evidence for promotion rules ("healthy in staging").
  std::string allowed_agents;
  // How to reach `repository` (the same keys as a source's auth).
  SourceAuth auth;
};

// One notification destination (agent/notify). Secrets come from files so
// they stay out of the config and the logs.
struct NotificationRoute {
  std::string name;
  std::string kind;  // "slack", "pagerduty", "statuspage" or "webhook"
  // Receiver URL: required for statuspage and webhook, defaults to PagerDuty's
  // events endpoint for pagerduty, refused for slack (its URL is the secret).
  std::string url;
  // Slack: the webhook URL; pagerduty: the routing key; statuspage: the API
  // key; webhook: the HMAC-SHA256 key. Trailing newlines are ignored.
  std::string secret_file;
  std::vector<std::string> units;      // empty: every unit
  std::string min_severity = "info";   // "info", "warning" or "critical"
  int retries = 3;                     // after the first attempt
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};
  std::string ca_file;                 // extra CA bundle for https receivers
};

struct NotificationsConfig {
  std::vector<NotificationRoute> routes;
  int queue_size = 256;  // events waiting; beyond it new ones are dropped
};

// Leader election through a coordination.k8s.io/v1 Lease
// (agent/daemon/leader_election.h): only the holder reconciles.
struct LeaderElectionConfig {
  bool enabled = false;
  std::string lease_name = "keelson";
  std::string lease_namespace = "keelson-system";
};

struct AgentConfig {
  std::string file;         // where it was read from
  std::string environment;  // this cluster's environment name, e.g. "prod"
  ClusterConfig cluster;
  std::string state_dir = "/var/lib/keelson";
  std::string listen = "127.0.0.1:9440";  // HTTP: health, metrics, webhooks, status
  std::vector<SourceConfig> sources;
  DeclarationRef declaration;
  AuditConfig audit;
  // Units reconciled at once; a slow unit never blocks more than one worker.
  int workers = 4;
  NotificationsConfig notifications;
  LeaderElectionConfig leader_election;
};

Result<AgentConfig> ParseAgentConfig(std::string_view text, const std::string& file);
Result<AgentConfig> LoadAgentConfig(const std::string& path);

}  // namespace keelson::config
