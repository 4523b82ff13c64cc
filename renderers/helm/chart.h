// Loading Helm charts: Chart.yaml (v1 with requirements.yaml, v2),
// values.yaml, templates/, other files, and subcharts under charts/ as
// directories or .tgz archives. `.helmignore` is honoured (basename globs,
// path globs, `dir/`, `!`), and dot-files under templates/ are skipped.
//
// Charts are plain data; a loaded tree is owned through shared pointers so
// dependency processing can copy a subchart under an alias. Not
// thread-safe for mutation.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "renderers/helm/value.h"
#include "renderers/manifest/filesystem.h"
#include "renderers/manifest/result.h"

namespace keelson::helm {

// The bytes of a chart file the loader does not read itself, read from the
// chart's file system on first use. Big charts ship hundreds of files that
// only `.Files` could reach (changelogs, CI values) and few templates open
// any: ingress-nginx's 200 such files were a third of rendering it.
// Thread-safe.
class DeferredFile {
 public:
  // `fs` must outlive this (LoadChart's contract).
  DeferredFile(const manifest::FileSystem& fs, std::string path) : fs_(fs), path_(std::move(path)) {}
  // The file's bytes (a UTF-8 BOM removed), or why they could not be read.
  const Result<std::string>& Get() const;

 private:
  const manifest::FileSystem& fs_;
  std::string path_;
  mutable std::once_flag once_;
  mutable std::optional<Result<std::string>> result_;
};

struct ChartFile {
  std::string name;  // relative to the chart root, "templates/deployment.yaml"
  std::string data;  // the bytes, unless deferred
  // Set for files read on first use (see DeferredFile); `data` is empty.
  std::shared_ptr<const DeferredFile> deferred;

  // The bytes, reading them now when deferred.
  Result<std::string_view> Contents() const;
};

struct Dependency {
  std::string name;
  std::string version;
  std::string repository;
  std::string condition;
  std::vector<std::string> tags;
  std::string alias;
  Value import_values;  // list of strings or {child, parent} maps; nil when absent
  bool enabled = true;
};

struct Chart {
  // Chart.yaml as Go's chart.Metadata fields (Name, Version, AppVersion...),
  // what templates see as .Chart.
  Value metadata;
  std::string name;
  std::string version;
  std::string api_version;
  std::string type;
  std::string kube_version;
  bool has_dependencies = false;  // a dependencies list was declared
  std::vector<Dependency> dependencies;
  Value values;  // values.yaml as a map
  std::string schema;  // values.schema.json as written; empty when absent
  std::vector<ChartFile> templates;
  std::vector<ChartFile> files;  // everything else, for .Files and crds/
  std::vector<std::shared_ptr<Chart>> subcharts;
  Chart* parent = nullptr;

  bool IsLibrary() const;
  // "root/charts/sub/charts/subsub": the prefix of template names.
  std::string FullPath() const;
};

// Bounds on what loading may read, against hostile archives.
struct LoadLimits {
  std::size_t max_archive_bytes = 256u << 20;  // decompressed .tgz
  std::size_t max_files = 20000;
  int max_subchart_depth = 20;
};

// Loads the chart rooted at `dir` of `fs` ("" for the root). Files outside
// templates/ and charts/ that the loader does not need are read on first
// use, so `fs` must outlive the chart.
Result<std::shared_ptr<Chart>> LoadChart(const manifest::FileSystem& fs, std::string_view dir,
                                         const LoadLimits& limits = {});

// Loads a chart from a gzip-compressed tar archive held in memory.
Result<std::shared_ptr<Chart>> LoadChartArchive(std::string_view data, const LoadLimits& limits = {});

// Unpacks a .tgz into files (regular files only, paths cleaned).
Result<std::vector<ChartFile>> ReadTarGz(std::string_view data, const LoadLimits& limits);

}  // namespace keelson::helm
