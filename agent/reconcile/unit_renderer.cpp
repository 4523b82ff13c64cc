#include "agent/reconcile/unit_renderer.h"

#include "renderers/helm/chart.h"
#include "renderers/helm/renderer.h"
#include "renderers/helm/values.h"
#include "renderers/kustomize/kustomize.h"
#include "renderers/plain/plain_renderer.h"

namespace keelson::reconcile {

config::RendererKind DetectRenderer(const manifest::FileSystem& fs, const std::string& dir) {
  auto has = [&](const char* name) {
    Result<std::string> p = manifest::JoinPath(dir, name);
    return p.ok() && fs.Type(*p) == manifest::FileType::kFile;
  };
  if (has("kustomization.yaml") || has("kustomization.yml") || has("Kustomization")) {
    return config::RendererKind::kKustomize;
  }
  if (has("Chart.yaml")) return config::RendererKind::kHelm;
  return config::RendererKind::kPlain;
}

namespace {

// A chart unit: values files (repository paths, in order) and --set
// expressions over the chart's defaults, rendered as `helm template` would
// with the unit's release name and namespace; test hooks are left out.
Result<manifest::ObjectList> RenderChartUnit(const manifest::FileSystem& fs, const config::UnitSpec& unit) {
  helm::Value user = helm::Value::NewMap();
  for (const std::string& file : unit.values) {
    Result<std::string> text = fs.ReadFile(file);
    if (!text.ok()) return std::move(text).error().InFile(file);
    Result<helm::Value> parsed = helm::ParseValuesFile(*text, file);
    if (!parsed.ok()) return std::move(parsed).error();
    user = helm::MergeUserValues(user, *parsed);
  }
  for (const std::string& set : unit.set) {
    if (Status s = helm::ApplySet(user, set, helm::SetKind::kTyped); !s) {
      Error e = std::move(s).error();
      e.message = "unit " + unit.name + ": set \"" + set + "\": " + e.message;
      return e;
    }
  }
  Result<std::shared_ptr<helm::Chart>> chart = helm::LoadChart(fs, unit.path);
  if (!chart.ok()) return std::move(chart).error();
  helm::RenderOptions options;
  options.release_name = unit.release;
  options.release_namespace = unit.namespace_.empty() ? "default" : unit.namespace_;
  options.skip_tests = true;
  Result<std::string> out = helm::RenderChart(**chart, user, options);
  if (!out.ok()) return std::move(out).error();
  return manifest::ParseObjects(*out, unit.path + " (rendered chart)");
}

}  // namespace

Result<manifest::ObjectList> BuiltinUnitRenderer::Render(const manifest::FileSystem& fs, const config::UnitSpec& unit) {
  config::RendererKind kind = unit.renderer;
  if (kind == config::RendererKind::kAuto) kind = DetectRenderer(fs, unit.path);
  switch (kind) {
    case config::RendererKind::kPlain:
    case config::RendererKind::kAuto:
      return plain::RenderDirectory(fs, unit.path);
    case config::RendererKind::kHelm:
      return RenderChartUnit(fs, unit);
    case config::RendererKind::kKustomize: {
      Result<std::vector<manifest::Node>> nodes = kustomize::BuildKustomization(fs, unit.path);
      if (!nodes.ok()) return std::move(nodes).error();
      manifest::ObjectList objects;
      for (manifest::Node& n : *nodes) {
        Result<manifest::ResourceId> id = manifest::IdentityOf(n);
        if (!id.ok()) return std::move(id).error().InFile(unit.path);
        objects.push_back(manifest::Object{std::move(n), std::move(id).value(), Location{unit.path, 0, 0, {}}});
      }
      return objects;
    }
  }
  return MakeError(ErrorCode::kInternal, "unknown renderer", Location{unit.path, 0, 0, {}});
}

std::string BuiltinUnitRenderer::Describe(const manifest::FileSystem& fs, const config::UnitSpec& unit) {
  config::RendererKind kind = unit.renderer;
  if (kind == config::RendererKind::kAuto) kind = DetectRenderer(fs, unit.path);
  return config::RendererKindName(kind);
}

}  // namespace keelson::reconcile
