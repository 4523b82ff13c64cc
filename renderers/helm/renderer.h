// Renders a chart the way `helm template` does and prints its output.
//
// RenderChart takes a loaded chart and the user's values (already merged
// from -f files and --set flags, see values.h), processes dependencies,
// coalesces values, runs every template of the chart tree in one shared
// template set, and prints the documents as Helm prints them: `---` and
// `# Source: chart/templates/file.yaml` before each, non-hook documents
// sorted by file and then by Helm's kind install order, hooks after, empty
// documents and NOTES.txt dropped. The chart tree is modified (disabled
// subcharts removed, imported values merged); load a fresh one per render.
#pragma once

#include <string>
#include <vector>

#include "renderers/helm/chart.h"
#include "renderers/helm/template.h"
#include "renderers/helm/value.h"
#include "renderers/manifest/result.h"

namespace keelson::helm {

struct RenderOptions {
  std::string release_name = "release-name";
  std::string release_namespace = "default";
  // --kube-version; .Capabilities.KubeVersion.
  std::string kube_version = "v1.32.0";
  // --api-versions, added to the built-in group/versions.
  std::vector<std::string> api_versions;
  bool include_crds = false;  // print crds/ files first
  bool skip_tests = false;    // drop test hooks
  bool is_upgrade = false;    // .Release.IsUpgrade
  Limits limits;              // template engine limits
};

// The printed output of `helm template`.
Result<std::string> RenderChart(Chart& chart, const Value& user_values, const RenderOptions& options);

}  // namespace keelson::helm
