#include <filesystem>
#include <ostream>
#include <system_error>

#include "agent/cli/cli.h"
#include "renderers/kustomize/kustomize.h"
#include "renderers/manifest/filesystem.h"
#include "renderers/manifest/object.h"
#include "renderers/plain/plain_renderer.h"

namespace keelson::cli {

namespace {

// The directory reads are confined to when rendering a kustomization: the
// enclosing Git work tree (so overlays may use ../base), else DIR itself.
std::filesystem::path KustomizeRoot(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::canonical(dir, ec);
  if (ec) return dir;
  for (std::filesystem::path p = abs; !p.empty(); p = p.parent_path()) {
    if (std::filesystem::exists(p / ".git", ec)) return p;
    if (p == p.parent_path()) break;
  }
  return abs;
}

int RenderKustomization(const Invocation& inv, const std::string& dir) {
  std::filesystem::path root = KustomizeRoot(dir);
  std::error_code ec;
  std::filesystem::path rel =
      std::filesystem::relative(std::filesystem::canonical(dir, ec), root, ec);
  if (ec) return UsageError(inv, dir + ": " + ec.message());
  manifest::DiskFileSystem fs(root.string());
  std::string rel_dir = rel.generic_string() == "." ? "" : rel.generic_string();
  Result<std::string> yaml = kustomize::RenderKustomizationYaml(fs, rel_dir);
  if (!yaml.ok()) {
    inv.err << "keelson: error: " << yaml.error().ToString() << "\n";
    return kExitUsage;
  }
  inv.out << *yaml;
  return kExitOk;
}

}  // namespace

int RunRender(const Invocation& inv) {
  if (inv.args.empty() || inv.args[0].starts_with("-")) {
    return UsageError(inv, "render needs exactly one directory; see `keelson help render`");
  }
  // A directory holding Chart.yaml is a Helm chart (render_chart.cpp).
  if (manifest::DiskFileSystem(inv.args[0]).Type("Chart.yaml") == manifest::FileType::kFile) {
    return RunRenderChart(inv);
  }
  if (inv.args.size() != 1) {
    return UsageError(inv, "render needs exactly one directory; see `keelson help render`");
  }
  manifest::DiskFileSystem fs(inv.args[0]);
  if (fs.Type("") != manifest::FileType::kDirectory) {
    return UsageError(inv, inv.args[0] + ": not a directory");
  }
  if (kustomize::HasKustomization(fs, "")) return RenderKustomization(inv, inv.args[0]);
  Result<manifest::ObjectList> objects = plain::RenderDirectory(fs, "");
  if (!objects.ok()) {
    Error e = std::move(objects).error();
    if (!e.where.file.empty()) e.where.file = inv.args[0] + "/" + e.where.file;
    inv.err << "keelson: error: " << e.ToString() << "\n";
    return kExitUsage;
  }
  inv.out << manifest::EmitObjects(*objects);
  return kExitOk;
}

}  // namespace keelson::cli
