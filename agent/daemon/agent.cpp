#include "agent/daemon/agent.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

#include "agent/audit/audit_pusher.h"
#include "agent/audit/audit_writer.h"
#include "agent/cluster/config.h"
#include "agent/cluster/kube_client.h"
#include "agent/cluster/object_cache.h"
#include "agent/config/environment.h"
#include "agent/daemon/policy_gate.h"
#include "agent/daemon/promotion.h"
#include "agent/daemon/leader_election.h"
#include "agent/daemon/systemd_notify.h"
#include "agent/notify/from_config.h"  // notifications
#include "agent/reconcile/drift.h"
#include "agent/reconcile/environment_reconciler.h"
#include "agent/reconcile/inventory.h"
#include "agent/reconcile/unit_renderer.h"
#include "agent/reconcile/unit_state.h"
#include "agent/server/http_server.h"
#include "agent/server/metrics.h"
#include "agent/server/status_page.h"
#include "agent/source/git_repository.h"
#include "agent/source/mirror.h"
#include "agent/source/poller.h"
#include "agent/source/webhook.h"
#include "agent/trust/policy.h"
#include "keelson/build_info.h"

namespace keelson::daemon {

using nlohmann::json;

namespace {

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

Result<std::string> ReadSecretFile(const std::string& path, const std::string& what) {
  std::optional<std::string> text = ReadFile(path);
  if (!text) return MakeError(ErrorCode::kNotFound, "cannot read " + what, Location{path, 0, 0, {}});
  return Trim(*text);
}

// A source's or the audit remote's `auth`, with the password file read.
Result<source::RemoteAccess> RemoteAccessFor(const config::SourceAuth& auth) {
  source::RemoteAccess access;
  access.ssh_private_key_file = auth.ssh_key_file;
  access.known_hosts_file = auth.known_hosts_file;
  access.https_user = auth.username;
  if (!auth.password_file.empty()) {
    Result<std::string> pw = ReadSecretFile(auth.password_file, "the password file");
    if (!pw.ok()) return std::move(pw).error();
    access.https_password = *pw;
  }
  access.ca_file = auth.ca_file;
  return access;
}

source::Tracking TrackingFor(const std::string& ref) {
  source::Tracking t;
  if (ref.starts_with("semver:")) {
    t.kind = source::Tracking::Kind::kSemver;
    t.value = ref.substr(7);
  } else if (ref.starts_with("refs/tags/")) {
    t.kind = source::Tracking::Kind::kTag;
    t.value = ref.substr(10);
  } else {
    t.kind = source::Tracking::Kind::kBranch;
    t.value = ref.starts_with("refs/heads/") ? ref.substr(11) : ref;
  }
  return t;
}

// One configured source at run time.
struct SourceRuntime {
  config::SourceConfig cfg;
  std::shared_ptr<source::Mirror> mirror;
  trust::TrustMaterial material;
  trust::TrustPolicy policy;
  std::string last_trusted;  // persisted in <state>/sources/<name>.trusted
  std::string seen_revision;  // newest revision the poller reported
  // The last revision the gates let through (every gated unit allowed);
  // the start of the range the gates judge. Kept in <stateDir>/sources/.
  std::string gates_passed;
  std::string status;        // one line for /api/v1/status
};

struct TrustOutcome {
  bool passed = true;
  std::string signer;
  std::string author;
  std::string reason;
  std::vector<audit::CommitVerdict> commits;
};

}  // namespace

struct Agent::Impl {
  config::AgentConfig cfg;
  AgentOptions options;
  std::unique_ptr<cluster::ClusterClient> client;
  cluster::KubeClient* kube = nullptr;  // the same client, for its request counters
  // Watch-fed cache of every object carrying the unit label: applies,
  // health checks and drift read from it (destroyed before the client).
  std::unique_ptr<cluster::ObjectCache> cache;
  server::MetricsRegistry metrics;
  std::deque<json> history;  // recent passes that changed something, newest first
  Watchdog watchdog;              // WATCHDOG_USEC, when systemd set it
  WatchdogClock clock{watchdog};  // health waits inside a pass keep it fed
  reconcile::BuiltinUnitRenderer renderer;
  std::unique_ptr<reconcile::FileInventoryStore> file_inventory;
  std::unique_ptr<reconcile::ClusterInventoryStore> cluster_inventory;
  std::unique_ptr<reconcile::MirroredInventoryStore> inventory;
  std::unique_ptr<reconcile::UnitStateStore> states;
  std::map<std::string, SourceRuntime> sources;
  std::unique_ptr<source::Poller> poller;
  std::unique_ptr<source::WebhookReceiver> webhooks;
  std::unique_ptr<server::HttpServer> http;
  std::unique_ptr<audit::AuditWriter> audit;
  std::unique_ptr<audit::AuditPusher> audit_pusher;  // set when audit.repository is
  std::optional<config::EnvironmentSpec> environment;  // last declaration read
  // Notifications (agent/notify): queued to their own thread, never blocking.
  std::unique_ptr<notify::Notifier> notifier;
  std::map<std::string, std::string> signature_failure_notified;  // source -> revision
  // Leader election (config leaderElection): only the lease holder reconciles.
  std::unique_ptr<LeaderElector> elector;
  void Emit(notify::EventKind kind, const std::string& unit, const std::string& revision, std::string message);

  std::mutex mu;
  std::condition_variable cv;
  bool pending = true;  // a pass is due (the first one at start)
  bool stop = false;
  bool reload = false;
  std::string trigger = "startup";
  // Units with a live change the watch reported since their last drift
  // check (guarded by mu).
  std::set<std::string> drift_dirty;
  // The applied objects of each unit as last read from the state directory,
  // keyed by the state's revision, health and update time (the file is
  // rewritten only when a reconcile saves the unit).
  std::map<std::string, std::pair<std::string, manifest::ObjectList>> applied_memo;  // unit -> (state key, objects)
  // Whether the last drift sweep had to ask the server for some object (a
  // kind the cache does not track): then sweeps stay frequent.
  bool drift_needs_polling = true;

  mutable std::mutex status_mu;
  json last_pass = json::object();
  std::string last_error;
  bool cluster_reachable = false;
  std::atomic<std::uint16_t> port{0};
  std::string last_recorded_revision;
  std::map<std::string, std::string> last_unit_report;  // unit -> last warning logged
  // Policies and gates: when a denied revision may pass without a new commit.
  std::optional<std::chrono::system_clock::time_point> gate_retry;
  ChangeMemo gate_change;

  keelson::Status Init();
  // audit.allowedAgents, loaded by Init; empty when not configured.
  std::optional<trust::AllowedSigners> audit_agents;
  // audit.auth, with the password file read.
  source::RemoteAccess audit_access;
  bool RunPass(const std::string& trigger_name);
  // Verifies every commit in (base, current] (just current when base is
  // empty or the policy checks only the head).
  TrustOutcome CheckTrust(SourceRuntime& s, const source::SyncResult& current, const std::string& base);
  // Compares applied objects with the live ones: every unit, or only
  // `only` (units the watch reported a change for).
  void CheckDrift(const std::set<std::string>* only = nullptr);
  // The live object, from the cache when its kind is tracked.
  Result<manifest::Node> ReadLive(const manifest::ResourceId& id);
  void Record(audit::RecordBody body);
  void SetError(std::string message);
  json StatusJson() const;
  void Notify(const std::string& status_line);
};

Agent::Agent(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Agent::~Agent() {
  if (impl_->cache) impl_->cache->Stop();
  if (impl_->poller) impl_->poller->Stop();
  if (impl_->http) impl_->http->Stop();
}

Result<std::unique_ptr<Agent>> Agent::Create(config::AgentConfig cfg, AgentOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->cfg = std::move(cfg);
  impl->options = std::move(options);
  if (Status s = impl->Init(); !s) return std::move(s).error();
  return std::unique_ptr<Agent>(new Agent(std::move(impl)));
}

keelson::Status Agent::Impl::Init() {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(cfg.state_dir + "/sources", ec);
  if (ec) {
    return MakeError(ErrorCode::kInvalidInput, "cannot create the state directory: " + ec.message(),
                     Location{cfg.file, 0, 0, "stateDir"});
  }
  // The cluster.
  Result<cluster::ConnectionConfig> conn = cfg.cluster.in_cluster ? cluster::LoadInClusterConfig()
                                                                  : cluster::LoadKubeconfig(cfg.cluster.kubeconfig,
                                                                                            cfg.cluster.context);
  if (!conn.ok()) return std::move(conn).error();
  cluster::ClientOptions client_options;
  client_options.rate_limit.qps = cfg.cluster.qps;
  client_options.rate_limit.burst = cfg.cluster.burst;
  Result<std::unique_ptr<cluster::KubeClient>> connected = cluster::KubeClient::Connect(*conn, client_options);
  if (!connected.ok()) return std::move(connected).error();
  kube = connected->get();
  client = std::move(connected).value();
  cluster::ObjectCacheOptions cache_options;
  cache_options.label_selector = reconcile::kUnitLabel;
  cache = std::make_unique<cluster::ObjectCache>(*client, cache_options);
  cache->SetListener([this](const manifest::ResourceId&, const manifest::Node& object, bool) {
    const manifest::Node* unit = object.FindPath({"metadata", "labels", reconcile::kUnitLabel});
    if (unit == nullptr || !unit->IsString()) return;
    {
      std::lock_guard lock(mu);
      drift_dirty.insert(unit->AsString());
    }
    cv.notify_all();
  });
  server::MetricsRegistry::DeclareAgentMetrics(metrics);
  metrics.Set("keelson_build_info", {keelson::build::kVersion, keelson::build::kGitCommit}, 1);
  file_inventory = std::make_unique<reconcile::FileInventoryStore>(cfg.state_dir + "/inventory");
  cluster_inventory = std::make_unique<reconcile::ClusterInventoryStore>(*client);
  inventory = std::make_unique<reconcile::MirroredInventoryStore>(*cluster_inventory, *file_inventory);
  states = std::make_unique<reconcile::UnitStateStore>(cfg.state_dir + "/units");
  // The agent keys whose audit trails promotion rules trust: read once, so
  // a bad file stops the start rather than every gated pass.
  if (!cfg.audit.allowed_agents.empty()) {
    Result<trust::AllowedSigners> agents = trust::AllowedSigners::Load(cfg.audit.allowed_agents);
    if (!agents.ok()) {
      Error e = std::move(agents).error();
      e.message = "audit.allowedAgents: " + e.message;
      return e;
    }
    audit_agents = std::move(agents).value();
  }
  // Notifications.
  Result<std::unique_ptr<notify::Notifier>> made_notifier = notify::MakeNotifier(cfg.notifications, cfg.file);
  if (!made_notifier.ok()) return std::move(made_notifier).error();
  notifier = std::move(made_notifier).value();
  // Leader election.
  if (cfg.leader_election.enabled) {
    LeaderElectionOptions leo;
    leo.lease_name = cfg.leader_election.lease_name;
    leo.lease_namespace = cfg.leader_election.lease_namespace;
    elector = std::make_unique<LeaderElector>(*client, leo);
  }

  // Sources, their trust material and webhooks.
  webhooks = std::make_unique<source::WebhookReceiver>([this](const std::string& name) {
    return poller != nullptr && poller->Trigger(name);
  });
  poller = std::make_unique<source::Poller>([this](const std::string& name, const Result<source::SyncResult>& r) {
    std::lock_guard lock(mu);
    auto it = sources.find(name);
    if (it != sources.end()) it->second.status = r.ok() ? "fetched " + r->revision.substr(0, 12) : r.error().ToString();
    if (!r.ok()) metrics.Add("keelson_git_fetch_errors_total", {name});
    // Only a new revision calls for a pass; unchanged polls do not (the
    // loop resyncs on its own while something is unhealthy).
    if (r.ok() && it != sources.end() && it->second.seen_revision != r->revision) {
      it->second.seen_revision = r->revision;
      pending = true;
      if (trigger == "startup" || trigger.empty()) trigger = "poll";
    }
    cv.notify_all();
  });
  for (const config::SourceConfig& sc : cfg.sources) {
    SourceRuntime rt;
    rt.cfg = sc;
    source::SourceSpec spec;
    spec.name = sc.name;
    spec.url = sc.url;
    spec.track = TrackingFor(sc.ref);
    Result<source::RemoteAccess> access = RemoteAccessFor(sc.auth);
    if (!access.ok()) return std::move(access).error();
    spec.access = std::move(access).value();
    spec.timeout = sc.timeout;
    if (Status s = source::ValidateSourceSpec(spec); !s) return std::move(s).error().InFile(cfg.file);
    rt.mirror = std::make_shared<source::Mirror>(spec, cfg.state_dir + "/mirrors");
    if (sc.trust.mode != "none") {
      trust::TrustFiles files{sc.trust.allowed_signers, sc.trust.openpgp_keyring, sc.trust.x509_roots, sc.trust.policy};
      Result<trust::TrustMaterial> material = trust::LoadTrustMaterial(files);
      if (!material.ok()) return std::move(material).error();
      rt.material = std::move(material).value();
      Result<std::optional<trust::TrustPolicy>> policy = trust::LoadTrustPolicy(files);
      if (!policy.ok()) return std::move(policy).error();
      if (policy->has_value()) {
        rt.policy = std::move(**policy);
      } else {
        rt.policy.mode = sc.trust.mode == "head" ? trust::PolicyMode::kHead : trust::PolicyMode::kEveryCommit;
        rt.policy.first_parent = sc.trust.first_parent;
        rt.policy.signed_tags = sc.trust.mode == "tag";
      }
    }
    if (std::optional<std::string> t = ReadFile(cfg.state_dir + "/sources/" + sc.name + ".trusted")) {
      rt.last_trusted = Trim(*t);
    }
    if (std::optional<std::string> g = ReadFile(cfg.state_dir + "/sources/" + sc.name + ".gated")) {
      rt.gates_passed = Trim(*g);
    }
    if (!sc.webhook_kind.empty()) {
      Result<source::WebhookKind> kind = source::ParseWebhookKind(sc.webhook_kind);
      Result<std::string> secret = ReadSecretFile(sc.webhook_secret_file, "the webhook secret");
      if (!kind.ok()) return std::move(kind).error();
      if (!secret.ok()) return std::move(secret).error();
      if (Status s = webhooks->Add(source::WebhookSpec{sc.name, *kind, *secret}); !s) return s;
    }
    if (Status s = poller->Add(rt.mirror, sc.interval); !s) return s;
    sources.emplace(sc.name, std::move(rt));
  }

  // The audit remote's credentials, for pushing this agent's trail and
  // reading its peers'.
  Result<source::RemoteAccess> audit_auth = RemoteAccessFor(cfg.audit.auth);
  if (!audit_auth.ok()) return std::move(audit_auth).error();
  audit_access = std::move(audit_auth).value();
  // The audit trail, when the agent has a key to sign it with.
  if (!cfg.audit.signing_key.empty()) {
    Result<audit::SshSigner> signer = audit::SshSigner::FromPrivateKeyFile(cfg.audit.signing_key);
    if (!signer.ok()) return std::move(signer).error();
    audit::AuditWriterOptions ao;
    ao.state_dir = cfg.state_dir;
    ao.repository = cfg.state_dir + "/audit.git";
    ao.environment = cfg.environment;
    ao.branch = cfg.audit.branch;
    ao.remote_url = cfg.audit.repository;
    ao.remote_access = audit_access;
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    ao.agent_name = host[0] != 0 ? host : "keelson";
    ao.signer = std::make_shared<const audit::SshSigner>(std::move(signer).value());
    Result<std::unique_ptr<audit::AuditWriter>> writer = audit::AuditWriter::Open(std::move(ao));
    if (!writer.ok()) return std::move(writer).error();
    audit = std::move(writer).value();
    if (!cfg.audit.repository.empty()) {
      audit_pusher = std::make_unique<audit::AuditPusher>(audit::AuditPusherOptions{
          cfg.state_dir + "/audit.git", cfg.audit.repository, audit->branch(), std::chrono::seconds(1),
          std::chrono::minutes(5), audit_access});
    }
  } else {
    spdlog::warn("audit.signingKey is not set: no audit trail is written");
  }

  // HTTP: health, readiness, status, webhooks.
  server::HttpServerOptions ho;
  std::string listen = options.listen_override.empty() ? cfg.listen : options.listen_override;
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) {
    return MakeError(ErrorCode::kInvalidInput, "must be HOST:PORT", Location{cfg.file, 0, 0, "listen"});
  }
  ho.address = listen.substr(0, colon);
  ho.port = static_cast<std::uint16_t>(std::stoi(listen.substr(colon + 1)));
  http = std::make_unique<server::HttpServer>(ho);
  http->Route("GET", "/healthz", [](const server::HttpRequest&) { return server::HttpResponse::Text(200, "ok\n"); });
  http->Route("GET", "/readyz", [this](const server::HttpRequest&) {
    std::lock_guard lock(status_mu);
    bool mirrors = true;
    for (const auto& [name, s] : sources) mirrors = mirrors && std::filesystem::exists(s.mirror->path());
    if (cluster_reachable && mirrors) return server::HttpResponse::Text(200, "ready\n");
    return server::HttpResponse::Text(503, std::string("not ready: ") + (cluster_reachable ? "" : "cluster not reached; ") +
                                               (mirrors ? "" : "mirror missing") + "\n");
  });
  http->Route("GET", "/metrics", [this](const server::HttpRequest&) {
    if (this->kube != nullptr) {
      for (const auto& [key, count] : this->kube->metrics().Snapshot()) {
        metrics.Set("keelson_api_requests_total", {key.first, key.second}, static_cast<double>(count));
      }
    }
    metrics.Set("keelson_audit_queue_depth", {}, audit ? static_cast<double>(audit->pending_commits()) : 0);
    server::HttpResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = metrics.Exposition();
    return r;
  });
  http->Route("GET", "/", [this](const server::HttpRequest&) {
    server::HttpResponse r;
    r.content_type = "text/html; charset=utf-8";
    r.body = server::RenderStatusPage(StatusJson());
    return r;
  });
  http->Route("GET", "/api/v1/status", [this](const server::HttpRequest&) {
    server::HttpResponse r;
    r.content_type = "application/json";
    r.body = StatusJson().dump(2) + "\n";
    return r;
  });
  webhooks->RegisterOn(*http);
  return Status::Ok();
}

void Agent::Impl::Emit(notify::EventKind kind, const std::string& unit, const std::string& revision,
                       std::string message) {
  if (!notifier) return;
  notify::Event e;
  e.kind = kind;
  e.severity = notify::DefaultSeverity(kind);
  e.environment = cfg.environment;
  e.unit = unit;
  e.revision = revision;
  e.message = std::move(message);
  notifier->Publish(std::move(e));
}

void Agent::Impl::SetError(std::string message) {
  spdlog::error("{}", message);
  std::lock_guard lock(status_mu);
  last_error = std::move(message);
}

void Agent::Impl::Record(audit::RecordBody body) {
  if (!audit) return;
  Result<audit::Record> r = audit->Append(std::move(body));
  if (!r.ok()) {
    SetError("audit: " + r.error().ToString());
    return;
  }
  if (Status s = audit->CommitPending(); !s) spdlog::warn("audit: {}", s.error().ToString());
  if (audit_pusher) audit_pusher->Notify();  // pushed on its own thread: a silent remote never blocks this one
}

void Agent::Impl::Notify(const std::string& status_line) {
  daemon::Notify("STATUS=" + status_line);
}

TrustOutcome Agent::Impl::CheckTrust(SourceRuntime& s, const source::SyncResult& current, const std::string& base) {
  TrustOutcome out;
  Result<source::GitRepository> repo = source::GitRepository::Open(s.mirror->path());
  if (!repo.ok()) {
    out.passed = false;
    out.reason = repo.error().ToString();
    return out;
  }
  auto author_of = [&](const std::string& raw) {
    Result<trust::CommitHeader> h = trust::ParseCommitHeader(raw);
    return h.ok() ? h->author.email : std::string();
  };
  if (s.cfg.trust.mode == "none") {
    Result<source::RawObject> raw = repo->ReadRawObject(current.revision);
    if (raw.ok()) out.author = author_of(raw->data);
    return out;
  }
  trust::SignatureVerifier verifier(s.material, [] { return static_cast<std::int64_t>(std::time(nullptr)); });
  if (s.policy.signed_tags) {
    Result<source::RawObject> tag = repo->ReadRawObject(current.object);
    if (!tag.ok() || tag->kind != source::ObjectKind::kTag) {
      out.passed = false;
      out.reason = "trust mode \"tag\" needs the tracked ref to be an annotated, signed tag";
      return out;
    }
    trust::TrustReport report = trust::EvaluateTag(current.object, tag->data, s.policy, verifier);
    out.passed = report.passed;
    out.signer = report.signer;
    out.reason = report.reason;
    out.commits.push_back(audit::CommitVerdict{current.object, "", report.signer,
                                               report.passed ? "trusted" : "untrusted", report.reason});
    return out;
  }
  std::vector<std::string> ids;
  if (s.policy.mode == trust::PolicyMode::kHead || base.empty()) {
    ids.push_back(current.revision);
  } else if (base == current.revision) {
    // Nothing new since base.
  } else {
    Result<std::vector<source::CommitInfo>> range = repo->ListCommits(
        base, current.revision,
        s.policy.first_parent ? source::Ancestry::kFirstParent : source::Ancestry::kAllParents, 100'000);
    if (!range.ok()) {
      out.passed = false;
      out.reason = range.error().ToString();
      return out;
    }
    for (const source::CommitInfo& c : *range) ids.push_back(c.id);
  }
  for (const std::string& id : ids) {
    Result<source::RawObject> raw = repo->ReadRawObject(id);
    if (!raw.ok()) {
      out.passed = false;
      out.reason = raw.error().ToString();
      return out;
    }
    trust::CommitInput input{id, raw->data, {}};
    if (s.policy.NeedsChangedPaths()) {
      Result<std::vector<std::string>> changed = repo->ChangedPaths(id);
      if (changed.ok()) input.changed_paths = std::move(changed).value();
    }
    trust::TrustReport report = trust::EvaluateCommit(input, s.policy, verifier);
    std::string verdict = report.passed ? "trusted" : report.format == trust::SignatureFormat::kNone ? "unsigned"
                                                                                                     : "untrusted";
    out.commits.push_back(audit::CommitVerdict{id, author_of(raw->data), report.signer, verdict, report.reason});
    metrics.Add("keelson_signature_verifications_total", {trust::SignatureFormatName(report.format), verdict});
    if (id == current.revision) {
      out.signer = report.signer;
      out.author = author_of(raw->data);
    }
    if (!report.passed && out.passed) {
      out.passed = false;
      out.reason = "commit " + id.substr(0, 12) + " " + verdict + ": " + report.reason;
    }
  }
  return out;
}

bool Agent::Impl::RunPass(const std::string& trigger_name) {
  auto started = std::chrono::steady_clock::now();
  const std::string& decl_name = cfg.declaration.source;
  std::map<std::string, source::SyncResult> current;
  for (auto& [name, s] : sources) {
    Result<source::SyncResult> cur = s.mirror->Current();
    if (!cur.ok()) cur = s.mirror->Sync();
    if (!cur.ok()) {
      s.status = cur.error().ToString();
      if (name == decl_name) {
        SetError("source " + name + ": " + cur.error().ToString());
        return false;
      }
      continue;
    }
    current[name] = *cur;
  }
  // Signatures first: nothing from an untrusted range is read further.
  std::map<std::string, TrustOutcome> trust_outcomes;
  for (auto& [name, cur] : current) {
    SourceRuntime& s = sources[name];
    TrustOutcome t = CheckTrust(s, cur, s.last_trusted);
    if (!t.passed) {
      if (std::exchange(signature_failure_notified[name], cur.revision) != cur.revision) {  // notifications: once per revision
        Emit(notify::EventKind::kSignatureFailed, "", cur.revision, "source " + name + ": " + t.reason);
      }
      s.status = "blocked: " + t.reason;
      SetError("source " + name + " at " + cur.revision.substr(0, 12) + " is not trusted: " + t.reason);
      if (name == decl_name && cur.revision != last_recorded_revision) {
        audit::ReconcileFinished f;
        f.source = s.cfg.url;
        f.ref = cur.ref;
        f.revision = cur.revision;
        f.previous_revision = s.last_trusted;
        f.outcome = "denied";
        f.commits = t.commits;
        f.error = t.reason;
        last_recorded_revision = cur.revision;
        Record(std::move(f));
      }
      if (name == decl_name) return false;
      continue;
    }
    trust_outcomes[name] = std::move(t);
  }
  // Snapshots and the declaration.
  std::map<std::string, std::unique_ptr<manifest::FileSystem>> snapshots;
  reconcile::ReconcileRequest request;
  for (auto& [name, t] : trust_outcomes) {
    Result<source::GitRepository> repo = source::GitRepository::Open(sources[name].mirror->path());
    if (!repo.ok()) continue;
    Result<std::unique_ptr<manifest::FileSystem>> snap = repo->Snapshot(current[name].revision);
    if (!snap.ok()) {
      SetError("source " + name + ": " + snap.error().ToString());
      continue;
    }
    snapshots[name] = std::move(snap).value();
    request.sources[name] = reconcile::SourceRevision{current[name].revision, t.signer, snapshots[name].get()};
  }
  if (snapshots.count(decl_name) == 0) return false;
  Result<std::string> decl_text = snapshots[decl_name]->ReadFile(cfg.declaration.path);
  if (!decl_text.ok()) {
    Error e = decl_text.error();
    SetError("declaration: " + e.InFile(cfg.declaration.path).ToString());
    return false;
  }
  Result<config::EnvironmentSpec> env = config::ParseEnvironment(*decl_text, cfg.declaration.path, decl_name);
  if (!env.ok()) {
    SetError("declaration: " + env.error().ToString());
    return false;
  }
  if (env->name != cfg.environment) {
    SetError("declaration " + cfg.declaration.path + " is for environment \"" + env->name + "\", this agent runs \"" +
             cfg.environment + "\"");
    return false;
  }
  environment = *env;
  request.revision = current[decl_name].revision;
  request.environment = &*environment;

  std::string reconcile_id = request.revision.substr(0, 12) + "-" +
                             std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::system_clock::now().time_since_epoch())
                                                .count());
  SourceRuntime& decl = sources[decl_name];
  bool record = request.revision != last_recorded_revision;
  if (record) {
    spdlog::info("reconciling {} ({})", request.revision.substr(0, 12), trigger_name);
    audit::ReconcileStarted rs;
    rs.reconcile_id = reconcile_id;
    rs.source = decl.cfg.url;
    rs.ref = current[decl_name].ref;
    rs.revision = request.revision;
    rs.previous_revision = decl.last_trusted;
    rs.trigger = trigger_name;
    Record(std::move(rs));
    Emit(notify::EventKind::kRolloutStarted, "", request.revision, "reconciling " + request.revision.substr(0, 12));
  }
  Notify("reconciling " + request.revision.substr(0, 12));
  reconcile::ReconcilerOptions ro;
  ro.workers = cfg.workers;
  ro.cache = cache.get();
  ro.force_conflicts = cfg.cluster.force_conflicts;
  ro.on_wave = [](const std::string& unit, const reconcile::WaveResult& w) {
    spdlog::info("unit {}: {} healthy ({} objects, {} ms)", unit, w.label, w.objects.size(),
                 (w.apply_time + w.health_time).count());
  };
  // Policies and change gates (policy_gate.h): a broken policy or gate file
  // stops the pass before anything is applied.
  auto gate_run = std::make_shared<PolicyGateRun>();
  {
    // The gates judge everything since the last revision they let through,
    // not just what is new since the last trusted one: a denied change must
    // stay denied when an unrelated commit lands on top of it, and after a
    // restart.
    std::vector<audit::CommitVerdict> gated = trust_outcomes[decl_name].commits;
    bool need_range = environment->gated() && decl.gates_passed != request.revision &&
                      (decl.gates_passed.empty() ? gated.empty() : decl.gates_passed != decl.last_trusted);
    if (need_range) {
      // With no revision let through yet, the head commit is the change.
      TrustOutcome wider = CheckTrust(decl, current[decl_name], decl.gates_passed);
      if (!wider.passed && wider.commits.empty()) {
        SetError("policies: cannot list the commits since " + decl.gates_passed.substr(0, 12) + ": " + wider.reason);
        return false;
      }
      gated = std::move(wider.commits);
    }
    Result<ChangeContext> change = ChangeContextFor(decl.mirror->path(), gated, request.revision, &gate_change);
    if (!change.ok()) {
      SetError("policies: " + change.error().ToString());
      return false;
    }
    PolicyGateInput gate_input{&*environment, snapshots[decl_name].get(), cfg.environment, request.revision, *change,
                               nullptr, nullptr};
    // Promotion rules read other environments' trails from the audit
    // remote, trusting the agent keys in audit.allowedAgents; without both,
    // such a rule denies and says what is missing.
    if (environment->gated() && !cfg.audit.repository.empty() && audit_agents) {
      gate_input.health_history = std::make_shared<AuditHealthHistory>(
          cfg.audit.repository, audit_access, cfg.state_dir + "/peers.git", *audit_agents);
    } else if (!environment->promote_after.empty()) {
      spdlog::warn("spec.promotion.after needs audit.repository and audit.allowedAgents in the agent config to read "
                   "{}'s audit trail; every unit is held until they are set",
                   environment->promote_after);
    }
    Result<reconcile::UnitGate> gate = BuildPolicyGate(gate_input, gate_run);
    if (!gate.ok()) {
      SetError("policies: " + gate.error().ToString());
      return false;
    }
    ro.gate = std::move(gate).value();
    if (std::optional<policy::ConcurrencyRule> concurrency = gate_run->Concurrency()) {
      ro.hold = MakeRolloutHold(*concurrency, [this] {
        std::lock_guard lock(mu);
        return !stop;
      });
    }
  }
  reconcile::EnvironmentReconciler reconciler(*client, clock, renderer, *inventory, *states, ro);
  reconcile::EnvironmentOutcome outcome = reconciler.Reconcile(request);
  gate_retry = gate_run->RetryAt();
  {
    std::lock_guard lock(status_mu);
    cluster_reachable = true;
  }
  bool changed = record;
  for (const reconcile::UnitOutcome& u : outcome.units) {
    metrics.Set("keelson_unit_healthy", {u.unit},
                u.status == reconcile::UnitStatus::kApplied || u.status == reconcile::UnitStatus::kUnchanged ? 1 : 0);
    if (u.status == reconcile::UnitStatus::kDenied) metrics.Add("keelson_policy_denials_total", {u.unit});
    if (u.status == reconcile::UnitStatus::kRolledBack) metrics.Add("keelson_rollbacks_total", {u.unit});
    if (u.apply) {
      std::chrono::milliseconds total{0};
      for (const reconcile::WaveResult& w : u.apply->waves) {
        total += w.apply_time + w.health_time;
        for (const reconcile::AppliedObject& a : w.objects) {
          metrics.Add("keelson_applied_objects_total", {u.unit, reconcile::ObjectActionName(a.action)});
        }
      }
      if (!u.apply->pruned.empty()) {
        metrics.Add("keelson_pruned_objects_total", {u.unit}, static_cast<double>(u.apply->pruned.size()));
      }
      metrics.Observe("keelson_reconcile_duration_seconds", {u.unit, reconcile::UnitStatusName(u.status)},
                      static_cast<double>(total.count()) / 1000.0);
    }
    if (u.status != reconcile::UnitStatus::kUnchanged) changed = true;
    if (u.status == reconcile::UnitStatus::kApplied || u.status == reconcile::UnitStatus::kUnchanged) {
      last_unit_report.erase(u.unit);
    }
    if (u.status == reconcile::UnitStatus::kApplied) {
      spdlog::info("unit {}: applied {} ({} objects)", u.unit, u.revision.substr(0, 12), u.objects.size());
      Emit(notify::EventKind::kRolloutSucceeded, u.unit, u.revision,
           "applied " + u.revision.substr(0, 12) + " (" + std::to_string(u.objects.size()) + " objects)");
    } else if (u.status != reconcile::UnitStatus::kUnchanged) {
      spdlog::warn("unit {}: {}{}", u.unit, reconcile::UnitStatusName(u.status),
                   u.error ? ": " + u.error->ToString() : "");
      // Notifications: skipped revisions were already reported when they failed.
      if (u.status != reconcile::UnitStatus::kSkipped) {
        Emit(u.status == reconcile::UnitStatus::kDenied       ? notify::EventKind::kPolicyDenied
             : u.status == reconcile::UnitStatus::kRolledBack ? notify::EventKind::kRollback
                                                              : notify::EventKind::kRolloutFailed,
             u.unit, u.revision,
             std::string(reconcile::UnitStatusName(u.status)) + (u.error ? ": " + u.error->message : ""));
      }
    }
  }
  // Every source that passed trust and was used is now the base of the next
  // range check.
  {
    // The range is consumed once every unit's gate said yes (whatever its
    // health did after); a unit denied, blocked or not rendered keeps the
    // range open, so its gate later judges these commits too.
    bool all_judged = true;
    for (const reconcile::UnitOutcome& u : outcome.units) {
      all_judged = all_judged && (u.status == reconcile::UnitStatus::kApplied ||
                                  u.status == reconcile::UnitStatus::kUnchanged ||
                                  u.status == reconcile::UnitStatus::kFailed ||
                                  u.status == reconcile::UnitStatus::kRolledBack);
    }
    if (all_judged && decl.gates_passed != request.revision) {
      decl.gates_passed = request.revision;
      (void)reconcile::WriteFileAtomically(cfg.state_dir + "/sources/" + decl_name + ".gated", decl.gates_passed + "\n");
    }
  }
  for (auto& [name, t] : trust_outcomes) {
    SourceRuntime& s = sources[name];
    if (s.last_trusted != current[name].revision) {
      s.last_trusted = current[name].revision;
      (void)reconcile::WriteFileAtomically(cfg.state_dir + "/sources/" + name + ".trusted", s.last_trusted + "\n");
    }
    s.status = "at " + current[name].revision.substr(0, 12);
  }
  if (changed) {
    if (!record) {
      audit::ReconcileStarted rs;
      rs.reconcile_id = reconcile_id;
      rs.source = decl.cfg.url;
      rs.ref = current[decl_name].ref;
      rs.revision = request.revision;
      rs.trigger = trigger_name;
      Record(std::move(rs));
    }
    audit::ReconcileFinished f;
    f.reconcile_id = reconcile_id;
    f.source = decl.cfg.url;
    f.ref = current[decl_name].ref;
    f.revision = request.revision;
    f.previous_revision = trust_outcomes[decl_name].commits.empty() ? "" : decl.last_trusted;
    f.author = trust_outcomes[decl_name].author;
    f.commits = trust_outcomes[decl_name].commits;
    std::set<std::string> renderers;
    bool rolled_back = false, failed = false, denied = false, applied = false;
    for (const reconcile::UnitOutcome& u : outcome.units) {
      if (!u.renderer.empty()) renderers.insert(u.renderer);
      for (std::size_t i = 0; i < u.objects.size(); ++i) {
        f.objects.push_back(audit::ObjectDigest{u.objects[i].ToString(), u.object_digests[i],
                                                u.objects[i].kind == "Secret" && u.objects[i].group.empty()});
      }
      AppendPolicyDecisions(*gate_run, u.unit, &f.policy);
      const std::optional<reconcile::UnitResult>& r = u.apply;
      if (r) {
        int index = 0;
        for (const reconcile::WaveResult& w : r->waves) {
          for (const reconcile::AppliedObject& a : w.objects) {
            std::string id = a.id.ToString();
            (a.action == reconcile::ObjectAction::kCreated   ? f.plan.created
             : a.action == reconcile::ObjectAction::kUpdated ? f.plan.updated
                                                             : f.plan.unchanged)
                .push_back(id);
          }
          f.waves.push_back(audit::WaveTiming{index++, static_cast<int>(w.objects.size()),
                                              (w.apply_time + w.health_time).count(),
                                              w.healthy ? "applied" : "failed"});
        }
        for (const manifest::ResourceId& id : r->pruned) f.plan.pruned.push_back(id.ToString());
        if (r->unhealthy_object) f.health.unhealthy_objects.push_back(r->unhealthy_object->ToString());
      }
      switch (u.status) {
        case reconcile::UnitStatus::kApplied: applied = true; break;
        case reconcile::UnitStatus::kRolledBack: rolled_back = true; break;
        case reconcile::UnitStatus::kDenied: denied = true; break;
        case reconcile::UnitStatus::kUnchanged: break;
        default: failed = true; break;
      }
      if (u.error && f.error.empty()) f.error = u.unit + ": " + u.error->ToString();
      if (u.rollback) {
        audit::Rollback rb;
        rb.reconcile_id = reconcile_id;
        rb.from_revision = u.revision;
        rb.to_revision = u.rolled_back_to;
        rb.reason = u.error ? u.error->ToString() : "";
        rb.outcome = u.rollback->healthy ? "succeeded" : "failed";
        Record(std::move(rb));
      }
    }
    for (const std::string& r : renderers) f.renderer.name += (f.renderer.name.empty() ? "" : ",") + r;
    f.renderer.version = keelson::build::kVersion;
    f.outcome = rolled_back ? "rolled_back" : failed ? "failed" : denied ? "denied" : applied ? "applied" : "unchanged";
    f.health.status = outcome.healthy ? "healthy" : "unhealthy";
    f.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
    f.health.duration_ms = f.duration_ms;
    Record(std::move(f));
    last_recorded_revision = request.revision;
  }
  json pass;
  pass["revision"] = request.revision;
  pass["trigger"] = trigger_name;
  pass["healthy"] = outcome.healthy;
  pass["time"] = reconcile::NowRfc3339();
  json units = json::array();
  for (const reconcile::UnitOutcome& u : outcome.units) {
    units.push_back({{"unit", u.unit},
                     {"status", reconcile::UnitStatusName(u.status)},
                     {"revision", u.revision},
                     {"objects", u.objects.size()},
                     {"error", u.error ? u.error->ToString() : ""}});
  }
  pass["units"] = units;
  {
    std::lock_guard lock(status_mu);
    if (changed) {
      std::string result = outcome.healthy ? "healthy" : "unhealthy";
      for (const reconcile::UnitOutcome& u : outcome.units) {
        if (u.status != reconcile::UnitStatus::kApplied && u.status != reconcile::UnitStatus::kUnchanged) {
          result += ", " + u.unit + " " + reconcile::UnitStatusName(u.status);
        }
      }
      history.push_front({{"time", pass["time"]}, {"revision", request.revision}, {"result", result}});
      if (history.size() > 20) history.pop_back();
    }
    last_pass = std::move(pass);
    if (outcome.healthy) last_error.clear();
  }
  Notify(std::string(outcome.healthy ? "healthy" : "degraded") + " at " + request.revision.substr(0, 12));
  return outcome.healthy;
}

Result<manifest::Node> Agent::Impl::ReadLive(const manifest::ResourceId& id) {
  cluster::GroupVersionKind gvk = cluster::KindOf(id);
  if (!cache->Tracked(gvk)) (void)cache->Track(gvk);
  cluster::ObjectCache::Found found = cache->Find(id);
  switch (found.lookup) {
    case cluster::ObjectCache::Lookup::kPresent:
      return *found.object;
    case cluster::ObjectCache::Lookup::kAbsent:
      return MakeError(ErrorCode::kNotFound, id.ToString() + " not found");
    case cluster::ObjectCache::Lookup::kUntracked:
      break;
  }
  drift_needs_polling = true;
  return client->Get(id);
}

void Agent::Impl::CheckDrift(const std::set<std::string>* only) {
  if (!environment) return;
  if (only == nullptr) drift_needs_polling = false;
  audit::DriftDetected detected;
  audit::DriftCorrected corrected;
  for (const config::UnitSpec& unit : environment->units) {
    if (only != nullptr && only->count(unit.name) == 0) continue;
    if (unit.drift == config::DriftMode::kOff) continue;
    Result<reconcile::UnitState> state = states->Load(unit.name);
    // A rolled-back unit runs its last healthy revision: guard that too.
    if (!state.ok() || (state->health != "Healthy" && state->health != "RolledBack")) continue;
    std::string memo_key = state->applied_revision + "|" + state->health + "|" + state->updated_at;
    auto memo = applied_memo.find(unit.name);
    if (memo == applied_memo.end() || memo->second.first != memo_key) {
      Result<std::optional<manifest::ObjectList>> loaded = states->LoadObjects(unit.name, "applied");
      if (!loaded.ok() || !loaded->has_value()) continue;
      memo = applied_memo.insert_or_assign(unit.name, std::make_pair(memo_key, std::move(**loaded))).first;
    }
    const manifest::ObjectList& applied = memo->second.second;
    std::vector<std::string> fields;
    std::int64_t drifted_objects = 0;
    for (const manifest::Object& o : applied) {
      Result<manifest::Node> live = ReadLive(o.id);
      std::vector<std::string> paths;
      if (!live.ok()) {
        if (live.error().code != ErrorCode::kNotFound) continue;  // unreachable: try again next round
        paths.push_back("<deleted>");
      } else {
        for (const reconcile::DriftedField& d : reconcile::FindDrift(o.node, *live)) paths.push_back(d.path);
      }
      if (paths.empty()) continue;
      ++drifted_objects;
      for (const std::string& p : paths) fields.push_back(o.id.ToString() + ": " + p);
      audit::DriftedObject rec{o.id.ToString(), paths};
      bool known = false;
      for (const std::string& f : state->drifted_fields) known = known || f.starts_with(o.id.ToString() + ":");
      if (!known) {
        spdlog::warn("drift in unit {}: {} ({})", unit.name, o.id.ToString(), paths.front());
        Emit(notify::EventKind::kDrift, unit.name, "", o.id.ToString() + " drifted at " + paths.front());
        detected.objects.push_back(rec);
      }
      if (unit.drift == config::DriftMode::kCorrect) {
        cluster::ApplyOptions ao;
        ao.force = true;
        Result<manifest::Node> fixed = client->Apply(o.node, ao);
        if (fixed.ok()) {
          spdlog::info("drift in unit {}: {} corrected", unit.name, o.id.ToString());
          corrected.objects.push_back(rec);
        } else {
          spdlog::warn("drift in unit {}: correcting {} failed: {}", unit.name, o.id.ToString(),
                       fixed.error().ToString());
        }
      }
    }
    metrics.Set("keelson_drift_objects", {unit.name}, static_cast<double>(drifted_objects));
    if (unit.drift == config::DriftMode::kCorrect && drifted_objects > 0) {
      metrics.Add("keelson_drift_corrections_total", {unit.name}, static_cast<double>(drifted_objects));
    }
    reconcile::UnitState s = *state;
    s.drifted_objects = unit.drift == config::DriftMode::kCorrect ? 0 : drifted_objects;
    s.drifted_fields = unit.drift == config::DriftMode::kCorrect ? std::vector<std::string>{} : fields;
    if (s.drifted_fields != state->drifted_fields || s.drifted_objects != state->drifted_objects) {
      (void)states->Save(s);
    }
  }
  if (!detected.objects.empty()) Record(std::move(detected));
  if (!corrected.objects.empty()) {
    corrected.reconcile_id = "drift-" + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                           std::chrono::system_clock::now().time_since_epoch())
                                                           .count());
    Record(std::move(corrected));
  }
}

json Agent::Impl::StatusJson() const {
  json out;
  out["environment"] = cfg.environment;
  out["version"] = keelson::build::kVersion;
  json srcs = json::array();
  json units = json::array();
  {
    std::lock_guard lock(status_mu);
    for (const auto& [name, s] : sources) {
      srcs.push_back({{"name", name}, {"url", source::RedactUrl(s.cfg.url)}, {"ref", s.cfg.ref},
                      {"lastTrusted", s.last_trusted}, {"status", s.status}});
    }
    out["lastPass"] = last_pass;
    out["lastError"] = last_error;
    json h = json::array();
    for (const json& entry : history) h.push_back(entry);
    out["history"] = std::move(h);
  }
  for (const std::string& name : states->Units()) {
    Result<reconcile::UnitState> s = states->Load(name);
    if (!s.ok()) continue;
    units.push_back(json::parse(s->ToJson()));
  }
  out["sources"] = srcs;
  out["units"] = units;
  return out;
}

int Agent::Run() {
  Impl& a = *impl_;
  if (Status s = a.http->Start(); !s) {
    spdlog::error("http: {}", s.error().ToString());
    return 2;
  }
  a.port = a.http->port();
  spdlog::info("keelson agent for environment {} listening on {}:{}", a.cfg.environment,
               a.options.listen_override.empty() ? a.cfg.listen.substr(0, a.cfg.listen.rfind(':')) : "127.0.0.1",
               a.port.load());
  {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    audit::AgentStarted started;
    started.version = keelson::build::kVersion;
    started.host = host;
    a.Record(std::move(started));
  }
  // The first fetch happens here, before the poller's own schedule, so the
  // first pass sees the remote.
  for (auto& [name, s] : a.sources) {
    Result<source::SyncResult> r = s.mirror->Sync();
    s.status = r.ok() ? "fetched " + r->revision.substr(0, 12) : r.error().ToString();
    if (!r.ok()) spdlog::warn("source {}: {}", name, r.error().ToString());
  }
  if (!a.options.once) a.poller->Start();
  // Leader election: wait for the lease before the first pass; losing it
  // ends the process at once so no apply happens without it.
  if (a.elector) {
    spdlog::info("leader election: {} waiting for lease {}/{}", a.elector->identity(),
                 a.cfg.leader_election.lease_namespace, a.cfg.leader_election.lease_name);
    // A standby is a healthy service: it tells systemd it is up (or a
    // second host's unit would time out starting and restart forever) and
    // keeps the watchdog fed while it waits.
    daemon::Notify("READY=1\nSTATUS=standby: waiting for lease " + a.cfg.leader_election.lease_namespace + "/" +
                   a.cfg.leader_election.lease_name);
    if (!a.elector->Acquire([&a] {
          a.watchdog.Ping();
          std::lock_guard lock(a.mu);
          return a.stop;
        })) {
      a.poller->Stop();
      a.http->Stop();
      return 0;
    }
    a.elector->StartRenewing([] {
      spdlog::critical("leader election: lease lost, exiting");
      spdlog::shutdown();
      std::_Exit(kLostLeadershipExitCode);
    });
    daemon::Notify("STATUS=leader: starting the first reconcile");
  } else {
    daemon::Notify("READY=1");
  }
  bool healthy = false;
  auto next_drift = std::chrono::steady_clock::now() + a.options.drift_interval;
  // While something is unhealthy (a transient API failure, a unit waiting
  // on a dependency) the loop reconciles again on its own this often.
  constexpr auto kResyncWhileUnhealthy = std::chrono::seconds(30);
  // time_point::max(): no resync planned (a plain value: g++ -O3 misjudges
  // an optional time_point here as maybe uninitialized).
  auto resync_at = std::chrono::steady_clock::time_point::max();
  std::string stop_reason = "stopped";
  // The full drift sweep's period while the watch covers every managed kind.
  constexpr auto kDriftSweep = std::chrono::seconds(60);
  std::set<std::string> dirty;
  while (true) {
    std::string trigger;
    {
      std::unique_lock lock(a.mu);
      auto wake = next_drift;
      wake = std::min(wake, resync_at);
      if (a.watchdog.enabled()) wake = std::min(wake, a.watchdog.next_due());
      if (a.gate_retry) {  // a denied revision may pass then (policy_gate.h)
        auto in = std::chrono::duration_cast<std::chrono::steady_clock::duration>(*a.gate_retry -
                                                                                 std::chrono::system_clock::now());
        in = std::max(in, std::chrono::steady_clock::duration::zero());
        wake = std::min(wake, std::chrono::steady_clock::now() + in);
      }
      a.cv.wait_until(lock, wake, [&] { return a.pending || a.stop || a.reload || !a.drift_dirty.empty(); });
      if (a.gate_retry && std::chrono::system_clock::now() >= *a.gate_retry && !a.stop) {
        spdlog::info("a denied revision may pass now: reconciling it again");
        a.gate_retry.reset();
        a.pending = true;
        if (a.trigger.empty()) a.trigger = "gate-retry";
      }
      if (std::chrono::steady_clock::now() >= resync_at && !a.pending) {
        a.pending = true;
        if (a.trigger.empty()) a.trigger = "resync";
      }
      if (a.stop) {
        stop_reason = "SIGTERM";
        break;
      }
      if (a.reload) {
        a.reload = false;
        Result<config::AgentConfig> fresh = config::LoadAgentConfig(a.cfg.file);
        if (!fresh.ok()) {
          spdlog::error("reload refused, keeping the running configuration: {}", fresh.error().ToString());
        } else {
          stop_reason = "config reload";
          lock.unlock();
          a.Record(audit::AgentStopped{stop_reason});
          a.poller->Stop();
          a.http->Stop();
          return kReloadExitCode;
        }
      }
      trigger = a.pending ? a.trigger : "";
      a.pending = false;
      a.trigger.clear();
      dirty.swap(a.drift_dirty);
    }
    a.watchdog.Ping();
    if (!trigger.empty()) {
      healthy = a.RunPass(trigger);
      resync_at = healthy ? std::chrono::steady_clock::time_point::max()
                          : std::chrono::steady_clock::now() + kResyncWhileUnhealthy;
    }
    if (a.options.once) break;
    if (std::chrono::steady_clock::now() >= next_drift) {
      a.CheckDrift();
      dirty.clear();
      // With every managed kind watched, changes arrive as events and the
      // full sweep is only a safety net; otherwise it is how drift is seen.
      next_drift = std::chrono::steady_clock::now() +
                   (a.drift_needs_polling ? a.options.drift_interval
                                          : std::max<std::chrono::milliseconds>(a.options.drift_interval, kDriftSweep));
    } else if (!dirty.empty()) {
      a.CheckDrift(&dirty);
      dirty.clear();
    }
  }
  daemon::Notify("STOPPING=1");
  a.poller->Stop();
  a.Record(audit::AgentStopped{stop_reason});
  if (a.audit) {
    if (Status s = a.audit->CommitPending(); !s) spdlog::warn("audit: {}", s.error().ToString());
    if (a.audit_pusher) {
      a.audit_pusher->Notify();
      // A bounded wait: the drain must end even with the remote silent.
      (void)a.audit_pusher->Stop(std::chrono::seconds(10));
    }
  }
  a.http->Stop();
  return a.options.once && !healthy ? 1 : 0;
}

void Agent::Stop() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stop = true;
  }
  impl_->cv.notify_all();
  impl_->clock.Wake();
  if (impl_->cache) impl_->cache->Stop();  // ends health waits on the watch too
}

void Agent::RequestReload() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->reload = true;
  }
  impl_->cv.notify_all();
}

std::uint16_t Agent::http_port() const { return impl_->port.load(); }

json Agent::StatusJson() const { return impl_->StatusJson(); }

}  // namespace keelson::daemon
