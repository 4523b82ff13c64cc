// keelson diff: what the next reconcile would change, as a unified diff per
// object, computed by server-side dry-run apply against the live cluster.
#include <spdlog/spdlog.h>

#include <ostream>

#include "agent/cli/cli.h"
#include "agent/cli/line_diff.h"
#include "agent/cluster/config.h"
#include "agent/cluster/kube_client.h"
#include "agent/config/agent_config.h"
#include "agent/config/environment.h"
#include "agent/reconcile/environment_reconciler.h"
#include "agent/reconcile/unit_renderer.h"
#include "agent/source/git_repository.h"
#include "agent/source/mirror.h"
#include "renderers/manifest/yaml.h"

namespace keelson::cli {
namespace {

// The parts of an object that say what it is, not how the server keeps it.
manifest::Node Comparable(manifest::Node object) {
  object.Erase("status");
  if (manifest::Node* meta = object.Find("metadata")) {
    for (const char* k : {"managedFields", "resourceVersion", "generation", "uid", "creationTimestamp"}) {
      meta->Erase(k);
    }
    if (manifest::Node* ann = meta->Find("annotations")) {
      ann->Erase("kubectl.kubernetes.io/last-applied-configuration");
      if (ann->empty()) meta->Erase("annotations");
    }
  }
  return object;
}

int Fail(const Invocation& inv, const Error& e) {
  inv.err << "keelson: error: " << e.ToString() << "\n";
  return kExitUsage;
}

}  // namespace

int RunDiff(const Invocation& inv) {
  std::string config_file, only_unit;
  for (std::size_t i = 0; i < inv.args.size(); ++i) {
    if (inv.args[i] == "--config" && i + 1 < inv.args.size()) {
      config_file = inv.args[++i];
    } else if (inv.args[i] == "--unit" && i + 1 < inv.args.size()) {
      only_unit = inv.args[++i];
    } else {
      return UsageError(inv, "unknown argument \"" + inv.args[i] + "\"; see `keelson help diff`");
    }
  }
  if (config_file.empty()) return UsageError(inv, "diff needs --config FILE");
  Result<config::AgentConfig> cfg = config::LoadAgentConfig(config_file);
  if (!cfg.ok()) return Fail(inv, cfg.error());
  Result<cluster::ConnectionConfig> conn = cfg->cluster.in_cluster
                                               ? cluster::LoadInClusterConfig()
                                               : cluster::LoadKubeconfig(cfg->cluster.kubeconfig, cfg->cluster.context);
  if (!conn.ok()) return Fail(inv, conn.error());
  Result<std::unique_ptr<cluster::KubeClient>> client = cluster::KubeClient::Connect(*conn);
  if (!client.ok()) return Fail(inv, client.error());
  // Every source at the revision its mirror holds (the agent keeps them
  // fetched; run `keelson fetch` or the agent first on a fresh state dir).
  std::map<std::string, std::unique_ptr<manifest::FileSystem>> snapshots;
  for (const config::SourceConfig& s : cfg->sources) {
    Result<source::GitRepository> repo = source::GitRepository::Open(cfg->state_dir + "/mirrors/" + s.name + ".git");
    if (!repo.ok()) return Fail(inv, repo.error());
    std::string ref = s.ref.starts_with("refs/") ? s.ref : "refs/heads/" + s.ref;
    Result<std::string> rev = repo->ResolveRevision(ref + "^{commit}");
    if (!rev.ok()) return Fail(inv, rev.error());
    Result<std::unique_ptr<manifest::FileSystem>> snap = repo->Snapshot(*rev);
    if (!snap.ok()) return Fail(inv, snap.error());
    snapshots[s.name] = std::move(snap).value();
  }
  manifest::FileSystem& decl_fs = *snapshots[cfg->declaration.source];
  Result<std::string> text = decl_fs.ReadFile(cfg->declaration.path);
  if (!text.ok()) return Fail(inv, std::move(text).error().InFile(cfg->declaration.path));
  Result<config::EnvironmentSpec> env =
      config::ParseEnvironment(*text, cfg->declaration.path, cfg->declaration.source);
  if (!env.ok()) return Fail(inv, env.error());
  reconcile::BuiltinUnitRenderer renderer;
  bool changes = false;
  for (const config::UnitSpec& unit : env->units) {
    if (!only_unit.empty() && unit.name != only_unit) continue;
    Result<manifest::ObjectList> objects = renderer.Render(*snapshots[unit.source], unit);
    if (!objects.ok()) return Fail(inv, objects.error());
    for (manifest::Object& o : *objects) {
      manifest::Node& meta = o.node["metadata"];
      if (o.id.namespace_.empty() && !unit.namespace_.empty()) {
        Result<cluster::ResourceMapping> m = (*client)->Mapping({o.id.group, o.id.version, o.id.kind});
        if (m.ok() && m->namespaced) {
          meta.Set("namespace", manifest::Node::String(unit.namespace_));
          o.id.namespace_ = unit.namespace_;
        }
      }
      meta["labels"].Set(reconcile::kUnitLabel, manifest::Node::String(unit.name));
      Result<manifest::Node> live = (*client)->Get(o.id);
      std::string before;
      if (live.ok()) {
        before = manifest::EmitYaml(Comparable(*live));
      } else if (live.error().code != ErrorCode::kNotFound) {
        return Fail(inv, live.error());
      }
      // Forced, so fields someone took over by hand show up as changes
      // (what drift correction would do) instead of failing the preview.
      cluster::ApplyOptions dry;
      dry.dry_run = true;
      dry.force = true;
      Result<manifest::Node> after = (*client)->Apply(o.node, dry);
      if (!after.ok()) return Fail(inv, after.error());
      std::string after_yaml = manifest::EmitYaml(Comparable(*after));
      if (before == after_yaml) continue;
      changes = true;
      std::string label = unit.name + ": " + o.id.ToString();
      inv.out << UnifiedDiff(before, after_yaml, live.ok() ? "live/" + label : "/dev/null", "next/" + label);
    }
  }
  return changes ? kExitCheckFailed : kExitOk;
}

}  // namespace keelson::cli
