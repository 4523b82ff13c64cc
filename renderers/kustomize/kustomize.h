// A Kustomize-compatible renderer: builds the kustomization in a directory
// of a FileSystem and gives the objects `kubectl kustomize` (Kustomize
// v5.5.0) would print, in the same order and, once emitted with
// RenderKustomizationYaml, with the same bytes.
//
// Everything is read through the FileSystem: no path outside its root is
// ever opened. Inside the root, a kustomization may read files only in or
// below its own directory (Kustomize's load restrictor); other
// kustomizations (bases, components) may live anywhere under the root.
// Remote resources (URLs) and exec/KRM-function plugins are refused with an
// error; helmCharts are not supported.
//
// Thread safety: a build holds no global state; concurrent builds over a
// FileSystem that allows concurrent reads are fine.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "renderers/manifest/filesystem.h"
#include "renderers/manifest/node.h"
#include "renderers/manifest/result.h"

namespace keelson::kustomize {

// The names Kustomize accepts for a kustomization file, in lookup order.
inline constexpr std::string_view kKustomizationFileNames[] = {
    "kustomization.yaml", "kustomization.yml", "Kustomization"};

// True when `dir` (a clean relative path, "" for the root) holds one of the
// kustomization file names.
bool HasKustomization(const manifest::FileSystem& fs, std::string_view dir);

struct BuildLimits {
  int max_depth = 64;  // nesting of kustomizations
  std::size_t max_resources = 200'000;
};

// Builds the kustomization in `dir`. Errors name the kustomization file and
// the field (for example `resources[2]`) and say what is wrong.
Result<std::vector<manifest::Node>> BuildKustomization(const manifest::FileSystem& fs,
                                                       std::string_view dir,
                                                       const BuildLimits& limits = {});

// BuildKustomization, emitted as `kubectl kustomize` prints it: documents
// separated by "---", keys sorted, go-yaml v2 style.
Result<std::string> RenderKustomizationYaml(const manifest::FileSystem& fs, std::string_view dir,
                                            const BuildLimits& limits = {});

}  // namespace keelson::kustomize
