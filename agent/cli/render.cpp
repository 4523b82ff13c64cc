#include <ostream>

#include "agent/cli/cli.h"
#include "renderers/manifest/filesystem.h"
#include "renderers/manifest/object.h"
#include "renderers/plain/plain_renderer.h"

namespace keelson::cli {

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
