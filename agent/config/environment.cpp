#include "agent/config/environment.h"

#include <set>

#include "agent/config/fields.h"
#include "agent/config/schema.h"
#include "renderers/manifest/filesystem.h"
#include "renderers/manifest/yaml.h"

namespace keelson::config {

using manifest::Node;

const char* RendererKindName(RendererKind kind) {
  switch (kind) {
    case RendererKind::kAuto: return "auto";
    case RendererKind::kPlain: return "plain";
    case RendererKind::kKustomize: return "kustomize";
    case RendererKind::kHelm: return "helm";
  }
  return "auto";
}

const UnitSpec* EnvironmentSpec::FindUnit(std::string_view unit_name) const {
  for (const UnitSpec& u : units) {
    if (u.name == unit_name) return &u;
  }
  return nullptr;
}

namespace {

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return name.front() != '-' && name.back() != '-';
}

void ReadUnit(const Node& node, FieldReader& parent, std::size_t index, const std::string& default_source,
              UnitSpec* out) {
  FieldReader r(node, parent.file(), parent.ItemPath("units", index));
  r.RejectUnknown({"name", "source", "path", "renderer", "namespace", "dependsOn", "prune", "allowEmptyRender",
                   "drift", "healthTimeout", "rollback", "release", "values", "set"});
  r.String("name", &out->name, true);
  if (r.ok() && !ValidName(out->name)) {
    r.Fail(node.Find("name"), "name", "must be 1-63 lowercase letters, digits or '-'");
  }
  out->source = default_source;
  r.String("source", &out->source);
  r.String("path", &out->path, true);
  if (r.ok()) {
    Result<std::string> clean = manifest::CleanPath(out->path);
    if (!clean.ok()) {
      r.Fail(node.Find("path"), "path", clean.error().message);
    } else {
      out->path = *clean;
    }
  }
  std::string renderer = "auto";
  r.Enum("renderer", &renderer, {"auto", "plain", "kustomize", "helm"});
  out->renderer = renderer == "plain"       ? RendererKind::kPlain
                  : renderer == "kustomize" ? RendererKind::kKustomize
                  : renderer == "helm"      ? RendererKind::kHelm
                                            : RendererKind::kAuto;
  r.String("namespace", &out->namespace_);
  r.StringList("dependsOn", &out->depends_on);
  r.Bool("prune", &out->prune);
  r.Bool("allowEmptyRender", &out->allow_empty);
  std::string drift = "detect";
  r.Enum("drift", &drift, {"detect", "correct", "off"});
  out->drift = drift == "correct" ? DriftMode::kCorrect : drift == "off" ? DriftMode::kOff : DriftMode::kDetect;
  r.Duration("healthTimeout", &out->health_timeout);
  std::string rollback = "auto";
  r.Enum("rollback", &rollback, {"auto", "none"});
  out->rollback = rollback == "none" ? RollbackMode::kNone : RollbackMode::kAuto;
  r.String("release", &out->release);
  r.StringList("values", &out->values);
  r.StringList("set", &out->set);
  if (r.ok() && out->renderer != RendererKind::kHelm && out->renderer != RendererKind::kAuto &&
      (!out->values.empty() || !out->set.empty() || !out->release.empty())) {
    r.Fail(&node, "values", "values, set and release apply to helm units only");
  }
  if (out->release.empty()) out->release = out->name;
  parent.Adopt(r);
}

}  // namespace

Result<EnvironmentSpec> ParseEnvironment(std::string_view text, const std::string& file,
                                         const std::string& default_source) {
  manifest::ParseOptions options;
  options.file = file;
  Result<Node> doc = manifest::ParseYaml(text, options);
  if (!doc.ok()) return std::move(doc).error();
  EnvironmentSpec env;
  env.file = file;
  FieldReader r(*doc, file, "");
  r.RejectUnknown({"apiVersion", "kind", "metadata", "spec"});
  std::string api_version, kind;
  r.String("apiVersion", &api_version, true);
  r.String("kind", &kind, true);
  if (r.ok() && api_version != "keelson.dev/v1alpha1") {
    r.Fail(doc->Find("apiVersion"), "apiVersion", "must be keelson.dev/v1alpha1");
  }
  if (r.ok() && kind != "Environment") r.Fail(doc->Find("kind"), "kind", "must be Environment");
  if (const Node* meta = r.Mapping("metadata", true)) {
    FieldReader m(*meta, file, "metadata");
    m.RejectUnknown({"name", "labels", "annotations"});
    m.String("name", &env.name, true);
    r.Adopt(m);
  }
  if (const Node* spec = r.Mapping("spec", true)) {
    FieldReader s(*spec, file, "spec");
    s.RejectUnknown({"units", "promotion", "policies", "gates"});
    if (const Node* policies = s.Mapping("policies")) {
      FieldReader p(*policies, file, "spec.policies");
      p.RejectUnknown({"directories", "builtin"});
      PolicySpec spec_policies;
      p.Bool("builtin", &spec_policies.builtin);
      p.StringList("directories", &spec_policies.directories);
      for (std::string& dir : spec_policies.directories) {
        if (!p.ok()) break;
        Result<std::string> clean = manifest::CleanPath(dir);
        if (!clean.ok()) {
          p.Fail(policies->Find("directories"), "directories", clean.error().message);
        } else {
          dir = *clean;
        }
      }
      env.policies = std::move(spec_policies);
      s.Adopt(p);
    }
    if (const Node* gates = spec->Find("gates"); gates != nullptr && s.ok()) {
      if (gates->IsString()) {
        Result<std::string> clean = manifest::CleanPath(gates->AsString());
        if (!clean.ok() || gates->AsString().empty()) {
          s.Fail(gates, "gates", clean.ok() ? "must not be empty" : clean.error().message);
        } else {
          env.gates_file = *clean;
        }
      } else if (gates->IsMapping()) {
        policy::ZoneDatabase zones;
        Result<policy::GateConfig> parsed = policy::ParseGateConfig(*gates, file, zones);
        if (!parsed.ok()) return std::move(parsed).error();
        env.gates = std::move(parsed).value();
      } else {
        s.Fail(gates, "gates", "must be a mapping (the gate configuration) or the path of a file holding one");
      }
    }
    if (const Node* promotion = s.Mapping("promotion")) {
      FieldReader p(*promotion, file, "spec.promotion");
      p.RejectUnknown({"after"});
      p.String("after", &env.promote_after, true);
      s.Adopt(p);
    }
    if (const Node* units = s.List("units", true)) {
      std::set<std::string> names;
      for (std::size_t i = 0; i < units->items().size() && s.ok(); ++i) {
        UnitSpec u;
        ReadUnit(units->items()[i], s, i, default_source, &u);
        if (s.ok() && !names.insert(u.name).second) {
          s.Fail(&units->items()[i], "", "duplicate unit name \"" + u.name + "\"");
        }
        env.units.push_back(std::move(u));
      }
      // dependsOn must name declared units; cycles are reported by the
      // planner, which can name the whole cycle.
      for (std::size_t i = 0; i < env.units.size() && s.ok(); ++i) {
        for (const std::string& dep : env.units[i].depends_on) {
          if (names.count(dep) == 0) {
            s.Fail(&units->items()[i], "units[" + std::to_string(i) + "].dependsOn",
                   "unit \"" + dep + "\" is not declared");
            break;
          }
        }
      }
    }
    r.Adopt(s);
  }
  if (!r.ok()) return r.error();
  if (Status s = ValidateAgainstSchema(*doc, SchemaKind::kEnvironment, file); !s) return std::move(s).error();
  return env;
}

}  // namespace keelson::config
