// A fast reader for the part of YAML that values files and rendered
// manifests are written in.
//
// yaml-cpp (behind manifest::ParseYamlStream) dominated render time: every
// values file and every rendered document goes through it. This reader
// handles the common subset in one pass over the text: block mappings and
// sequences (compact forms included), plain scalars on one line, single-
// and double-quoted scalars on one line, literal and folded block scalars,
// flow collections on one line, comments, blank lines and a leading `---`.
//
// It gives up (returns nullopt) on anything else: anchors, aliases, tags,
// explicit `?` keys, merge keys, directives, scalars or flow collections
// spanning lines, tabs or carriage returns outside scalar text, explicit
// block indentation indicators, more-indented lines in folded scalars, a
// second document, null or duplicate keys, nesting deeper than 64 levels,
// invalid UTF-8 and every malformed construct. Callers then parse with
// manifest::ParseYamlStream, which handles and reports all of those, so
// giving up is never an error. When it does return a node, the node equals
// the first document ParseYamlStream returns for the same text and options
// (marks are approximate: line and column of where each node starts).
// Uses options.schema and options.resolve_plain_keys; thread-safe.
#pragma once

#include <optional>
#include <string_view>

#include "renderers/manifest/node.h"
#include "renderers/manifest/yaml.h"

namespace keelson::helm {

std::optional<manifest::Node> TryParseBlockYaml(std::string_view text, const manifest::ParseOptions& options);

// The same reading (same subset, same giving up, same checks) for a
// rendered manifest, of which Helm's install ordering needs only the head:
// of a top-level mapping, only the values of "kind" and "metadata" are
// built; the other entries are checked but hold empty values, so large
// objects (CRDs) cost little. Returns nullopt exactly when
// TryParseBlockYaml does.
std::optional<manifest::Node> TryParseBlockYamlHead(std::string_view text, const manifest::ParseOptions& options);

// The text of the first document of a stream: everything before the
// second document's `---` (or a `...`) at the start of a line. Go's YAML
// decoder reads no further, so later documents cannot make it fail.
std::string_view FirstYamlDocument(std::string_view text);

}  // namespace keelson::helm
