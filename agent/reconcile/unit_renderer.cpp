#include "agent/reconcile/unit_renderer.h"

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

Result<manifest::ObjectList> BuiltinUnitRenderer::Render(const manifest::FileSystem& fs, const config::UnitSpec& unit) {
  config::RendererKind kind = unit.renderer;
  if (kind == config::RendererKind::kAuto) kind = DetectRenderer(fs, unit.path);
  switch (kind) {
    case config::RendererKind::kPlain:
    case config::RendererKind::kAuto:
      return plain::RenderDirectory(fs, unit.path);
    case config::RendererKind::kKustomize:
    case config::RendererKind::kHelm:
      break;
  }
  return MakeError(ErrorCode::kInvalidInput,
                   std::string("unit \"") + unit.name + "\" needs the " + config::RendererKindName(kind) +
                       " renderer, which this build does not include",
                   Location{unit.path, 0, 0, {}});
}

std::string BuiltinUnitRenderer::Describe(const manifest::FileSystem& fs, const config::UnitSpec& unit) {
  config::RendererKind kind = unit.renderer;
  if (kind == config::RendererKind::kAuto) kind = DetectRenderer(fs, unit.path);
  return config::RendererKindName(kind);
}

}  // namespace keelson::reconcile
