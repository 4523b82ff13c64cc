// Turns a unit's directory in a revision into objects, choosing the
// renderer the unit asks for (or detecting it).
#pragma once

#include <string>

#include "agent/config/environment.h"
#include "renderers/manifest/filesystem.h"
#include "renderers/manifest/object.h"

namespace keelson::reconcile {

class UnitRenderer {
 public:
  virtual ~UnitRenderer() = default;
  // Renders `unit` from `fs` (the snapshot of one revision). Errors name the
  // file and line inside the repository.
  virtual Result<manifest::ObjectList> Render(const manifest::FileSystem& fs, const config::UnitSpec& unit) = 0;
  // "plain", "kustomize" or "helm" and the renderer's version, for records.
  virtual std::string Describe(const manifest::FileSystem& fs, const config::UnitSpec& unit) = 0;
};

// The renderer kind a directory asks for: kustomize when it holds a
// kustomization file, helm when it holds Chart.yaml, plain otherwise.
config::RendererKind DetectRenderer(const manifest::FileSystem& fs, const std::string& dir);

// Renders with the renderers built into Keelson.
class BuiltinUnitRenderer final : public UnitRenderer {
 public:
  Result<manifest::ObjectList> Render(const manifest::FileSystem& fs, const config::UnitSpec& unit) override;
  std::string Describe(const manifest::FileSystem& fs, const config::UnitSpec& unit) override;
};

}  // namespace keelson::reconcile
