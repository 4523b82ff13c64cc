#include "agent/config/agent_config.h"

#include <fstream>
#include <set>
#include <sstream>

#include "agent/config/fields.h"
#include "agent/source/git_url.h"
#include "agent/config/schema.h"
#include "renderers/manifest/yaml.h"

namespace keelson::config {

using manifest::Node;

namespace {

// `auth` of a source or of the audit remote.
void ReadAuth(const Node& node, FieldReader& parent, SourceAuth* out) {
  FieldReader a(node, parent.file(), parent.ChildPath("auth"));
  a.RejectUnknown({"sshKeyFile", "knownHostsFile", "username", "passwordFile", "caFile"});
  a.String("sshKeyFile", &out->ssh_key_file);
  a.String("knownHostsFile", &out->known_hosts_file);
  a.String("username", &out->username);
  a.String("passwordFile", &out->password_file);
  a.String("caFile", &out->ca_file);
  parent.Adopt(a);
}

void ReadSource(const Node& node, FieldReader& parent, std::size_t index, SourceConfig* out) {
  FieldReader r(node, parent.file(), parent.ItemPath("sources", index));
  r.RejectUnknown({"name", "url", "ref", "interval", "timeout", "auth", "trust", "webhook"});
  r.String("name", &out->name, true);
  r.String("url", &out->url, true);
  r.String("ref", &out->ref);
  r.Duration("interval", &out->interval);
  r.Duration("timeout", &out->timeout);
  if (const Node* hook = r.Mapping("webhook")) {
    FieldReader w(*hook, r.file(), r.ChildPath("webhook"));
    w.RejectUnknown({"kind", "secretFile"});
    out->webhook_kind = "generic";
    w.Enum("kind", &out->webhook_kind, {"github", "gitlab", "gitea", "generic"});
    w.String("secretFile", &out->webhook_secret_file, true);
    r.Adopt(w);
  }
  if (const Node* auth = r.Mapping("auth")) ReadAuth(*auth, r, &out->auth);
  if (const Node* trust = r.Mapping("trust")) {
    FieldReader t(*trust, r.file(), r.ChildPath("trust"));
    t.RejectUnknown({"mode", "firstParent", "allowedSigners", "openpgpKeyring", "x509Roots", "policy"});
    t.Enum("mode", &out->trust.mode, {"every-commit", "head", "tag", "none"});
    t.Bool("firstParent", &out->trust.first_parent);
    t.String("allowedSigners", &out->trust.allowed_signers);
    t.String("openpgpKeyring", &out->trust.openpgp_keyring);
    t.String("x509Roots", &out->trust.x509_roots);
    t.String("policy", &out->trust.policy);
    if (t.ok() && out->trust.mode != "none" && out->trust.allowed_signers.empty() &&
        out->trust.openpgp_keyring.empty() && out->trust.x509_roots.empty()) {
      t.Fail(trust, "", "trust mode \"" + out->trust.mode +
                            "\" needs at least one of allowedSigners, openpgpKeyring, x509Roots");
    }
    r.Adopt(t);
  } else if (r.ok()) {
    r.Fail(&node, "trust",
           "missing required field: say which signers are trusted (or mode: none to apply unsigned commits)");
  }
  if (r.ok() && source::IsSshUrl(out->url) && out->auth.known_hosts_file.empty()) {
    r.Fail(&node, "auth.knownHostsFile", "ssh remotes need a known_hosts file (host keys are always checked)");
  }
  parent.Adopt(r);
}

void ReadNotifications(const Node& node, FieldReader& parent, NotificationsConfig* out) {
  FieldReader n(node, parent.file(), "notifications");
  n.RejectUnknown({"routes", "queueSize"});
  std::int64_t queue = out->queue_size;
  n.Int("queueSize", &queue, 1, 100000);
  out->queue_size = static_cast<int>(queue);
  if (const Node* routes = n.List("routes", true)) {
    std::set<std::string> names;
    for (std::size_t i = 0; i < routes->items().size() && n.ok(); ++i) {
      const Node& item = routes->items()[i];
      NotificationRoute route;
      FieldReader r(item, n.file(), n.ItemPath("routes", i));
      r.RejectUnknown({"name", "kind", "url", "secretFile", "units", "minSeverity", "retries", "timeout", "caFile"});
      r.String("name", &route.name, true);
      r.Enum("kind", &route.kind, {"slack", "pagerduty", "statuspage", "webhook"});
      if (r.ok() && route.kind.empty()) r.Fail(&item, "kind", "missing required field");
      r.String("url", &route.url);
      r.String("secretFile", &route.secret_file, true);
      r.StringList("units", &route.units);
      r.Enum("minSeverity", &route.min_severity, {"info", "warning", "critical"});
      std::int64_t retries = route.retries;
      r.Int("retries", &retries, 0, 20);
      route.retries = static_cast<int>(retries);
      r.Duration("timeout", &route.timeout);
      r.String("caFile", &route.ca_file);
      if (r.ok() && route.kind == "slack" && !route.url.empty()) {
        r.Fail(item.Find("url"), "url", "a Slack webhook URL is a secret: put it in secretFile, not here");
      }
      if (r.ok() && route.kind == "pagerduty" && route.url.empty()) {
        route.url = "https://events.pagerduty.com/v2/enqueue";
      }
      if (r.ok() && (route.kind == "statuspage" || route.kind == "webhook") && route.url.empty()) {
        r.Fail(&item, "url", "missing required field for kind " + route.kind);
      }
      if (r.ok() && !route.url.empty() && !route.url.starts_with("https://") && !route.url.starts_with("http://")) {
        r.Fail(item.Find("url"), "url", "must be an http:// or https:// URL");
      }
      if (r.ok() && route.timeout.count() <= 0) r.Fail(item.Find("timeout"), "timeout", "must be positive");
      if (r.ok() && !names.insert(route.name).second) {
        r.Fail(item.Find("name"), "name", "duplicate route name \"" + route.name + "\"");
      }
      n.Adopt(r);
      out->routes.push_back(std::move(route));
    }
  }
  parent.Adopt(n);
}

}  // namespace

Result<AgentConfig> ParseAgentConfig(std::string_view text, const std::string& file) {
  manifest::ParseOptions options;
  options.file = file;
  Result<Node> doc = manifest::ParseYaml(text, options);
  if (!doc.ok()) return std::move(doc).error();
  AgentConfig cfg;
  cfg.file = file;
  FieldReader r(*doc, file, "");
  r.RejectUnknown({"apiVersion", "kind", "environment", "cluster", "stateDir", "listen", "sources", "declaration",
                   "audit", "workers", "notifications", "leaderElection"});
  std::string api_version, kind;
  r.String("apiVersion", &api_version, true);
  r.String("kind", &kind, true);
  if (r.ok() && api_version != "keelson.dev/v1alpha1") {
    r.Fail(doc->Find("apiVersion"), "apiVersion", "must be keelson.dev/v1alpha1");
  }
  if (r.ok() && kind != "AgentConfig") r.Fail(doc->Find("kind"), "kind", "must be AgentConfig");
  r.String("environment", &cfg.environment, true);
  r.String("stateDir", &cfg.state_dir);
  r.String("listen", &cfg.listen);
  std::int64_t workers = cfg.workers;
  r.Int("workers", &workers, 1, 256);
  cfg.workers = static_cast<int>(workers);
  if (const Node* cluster = r.Mapping("cluster")) {
    FieldReader c(*cluster, file, "cluster");
    c.RejectUnknown({"kubeconfig", "context", "inCluster", "qps", "burst", "forceConflicts"});
    c.String("kubeconfig", &cfg.cluster.kubeconfig);
    c.String("context", &cfg.cluster.context);
    c.Bool("inCluster", &cfg.cluster.in_cluster);
    c.Double("qps", &cfg.cluster.qps, 0.1, 100000);
    std::int64_t burst = cfg.cluster.burst;
    c.Int("burst", &burst, 1, 100000);
    cfg.cluster.burst = static_cast<int>(burst);
    c.Bool("forceConflicts", &cfg.cluster.force_conflicts);
    r.Adopt(c);
  }
  if (const Node* sources = r.List("sources", true)) {
    std::set<std::string> names;
    for (std::size_t i = 0; i < sources->items().size() && r.ok(); ++i) {
      SourceConfig s;
      ReadSource(sources->items()[i], r, i, &s);
      if (r.ok() && !names.insert(s.name).second) {
        r.Fail(&sources->items()[i], r.ItemPath("sources", i).substr(0) + ".name",
               "duplicate source name \"" + s.name + "\"");
      }
      cfg.sources.push_back(std::move(s));
    }
    if (r.ok() && cfg.sources.empty()) r.Fail(sources, "sources", "needs at least one source");
  }
  if (const Node* decl = r.Mapping("declaration", true)) {
    FieldReader d(*decl, file, "declaration");
    d.RejectUnknown({"source", "path"});
    d.String("source", &cfg.declaration.source, true);
    d.String("path", &cfg.declaration.path, true);
    bool known = false;
    for (const SourceConfig& s : cfg.sources) known = known || s.name == cfg.declaration.source;
    if (d.ok() && !known) d.Fail(decl->Find("source"), "source", "no source named \"" + cfg.declaration.source + "\"");
    r.Adopt(d);
  }
  if (const Node* audit = r.Mapping("audit")) {
    FieldReader a(*audit, file, "audit");
    a.RejectUnknown({"repository", "branch", "signingKey", "allowedAgents", "auth"});
    a.String("repository", &cfg.audit.repository);
    a.String("branch", &cfg.audit.branch);
    a.String("signingKey", &cfg.audit.signing_key);
    a.String("allowedAgents", &cfg.audit.allowed_agents);
    if (const Node* auth = a.Mapping("auth")) ReadAuth(*auth, a, &cfg.audit.auth);
    if (a.ok() && source::IsSshUrl(cfg.audit.repository) && cfg.audit.auth.known_hosts_file.empty()) {
      a.Fail(audit, "auth.knownHostsFile", "ssh remotes need a known_hosts file (host keys are always checked)");
    }
    r.Adopt(a);
  }
  if (const Node* notifications = r.Mapping("notifications")) ReadNotifications(*notifications, r, &cfg.notifications);
  if (const Node* election = r.Mapping("leaderElection")) {
    FieldReader l(*election, file, "leaderElection");
    l.RejectUnknown({"enabled", "leaseName", "namespace"});
    l.Bool("enabled", &cfg.leader_election.enabled);
    l.String("leaseName", &cfg.leader_election.lease_name);
    l.String("namespace", &cfg.leader_election.lease_namespace);
    auto dns_label = [](const std::string& v) {
      if (v.empty() || v.size() > 63 || v.front() == '-' || v.back() == '-') return false;
      for (char ch : v) {
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.')) return false;
      }
      return true;
    };
    if (l.ok() && !dns_label(cfg.leader_election.lease_name)) {
      l.Fail(election->Find("leaseName"), "leaseName", "must be a lowercase DNS name of at most 63 characters");
    }
    if (l.ok() && !dns_label(cfg.leader_election.lease_namespace)) {
      l.Fail(election->Find("namespace"), "namespace", "must be a lowercase DNS label of at most 63 characters");
    }
    r.Adopt(l);
  }
  if (!r.ok()) return r.error();
  if (Status s = ValidateAgainstSchema(*doc, SchemaKind::kAgentConfig, file); !s) return std::move(s).error();
  if (cfg.audit.branch.empty()) cfg.audit.branch = "keelson/audit/" + cfg.environment;
  return cfg;
}

Result<AgentConfig> LoadAgentConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(ErrorCode::kNotFound, "cannot read agent config", Location{path, 0, 0, {}});
  std::ostringstream buf;
  buf << in.rdbuf();
  return ParseAgentConfig(buf.str(), path);
}

}  // namespace keelson::config
