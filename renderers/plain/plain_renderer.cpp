#include "renderers/plain/plain_renderer.h"

#include <algorithm>

namespace keelson::plain {
namespace {

bool IsManifestFile(std::string_view name) {
  return name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".json");
}

Status Collect(const manifest::FileSystem& fs, const std::string& dir, bool recursive,
               std::vector<std::string>* files) {
  Result<std::vector<manifest::DirEntry>> entries = fs.ListDirectory(dir);
  if (!entries.ok()) return std::move(entries).error();
  for (const manifest::DirEntry& e : *entries) {
    if (e.name.starts_with(".")) continue;
    std::string path = dir.empty() ? e.name : dir + "/" + e.name;
    if (e.type == manifest::FileType::kDirectory) {
      if (recursive) {
        if (Status s = Collect(fs, path, recursive, files); !s) return s;
      }
    } else if (IsManifestFile(e.name)) {
      files->push_back(std::move(path));
    }
  }
  return Status::Ok();
}

}  // namespace

Result<manifest::ObjectList> RenderDirectory(const manifest::FileSystem& fs, std::string_view dir,
                                             const PlainOptions& options) {
  Result<std::string> root = manifest::CleanPath(dir);
  if (!root.ok()) return std::move(root).error();
  std::vector<std::string> files;
  if (Status s = Collect(fs, *root, options.recursive, &files); !s) return std::move(s).error();
  std::sort(files.begin(), files.end());
  manifest::ObjectList objects;
  for (const std::string& file : files) {
    Result<std::string> text = fs.ReadFile(file);
    if (!text.ok()) return std::move(text).error().InFile(file);
    Result<manifest::ObjectList> parsed = manifest::ParseObjects(*text, file);
    if (!parsed.ok()) return std::move(parsed).error();
    for (manifest::Object& o : *parsed) objects.push_back(std::move(o));
  }
  return objects;
}

}  // namespace keelson::plain
