// Plain directories of YAML: every *.yaml, *.yml and *.json file under a
// directory, read as one stream of objects.
//
// Order is deterministic: files by path in byte order (a directory's files
// before its subdirectories' files is not special-cased; "a/x.yaml" sorts
// before "b.yaml" as the strings do), documents in file order. Hidden files
// and directories (leading ".") are skipped, as Argo CD and Flux do.
#pragma once

#include <string_view>

#include "renderers/manifest/filesystem.h"
#include "renderers/manifest/object.h"

namespace keelson::plain {

struct PlainOptions {
  bool recursive = true;  // descend into subdirectories
};

// Fails on the first file that does not parse, naming file, line and
// column. An empty directory renders to an empty list.
Result<manifest::ObjectList> RenderDirectory(const manifest::FileSystem& fs, std::string_view dir,
                                             const PlainOptions& options = {});

}  // namespace keelson::plain
