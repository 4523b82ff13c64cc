// YAML in and out for the object model.
//
// Parsing goes through yaml-cpp's event parser, so every node gets its
// line and column, anchors and aliases are expanded under a budget (a
// "billion laughs" document fails fast instead of exhausting memory), and
// merge keys (<<) are applied. Emission reproduces the block style of
// go-yaml v2 as used by sigs.k8s.io/yaml, the style `kubectl kustomize` and
// Helm's toYaml print: keys sorted the Go way, 2-space indent, sequences
// not indented under their key, plain/single/double-quoted/literal scalars
// chosen by the same rules, long scalars folded at column 80.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "renderers/manifest/node.h"
#include "renderers/manifest/result.h"

namespace keelson::manifest {

// How plain (unquoted) scalars are typed.
enum class Schema {
  // go-yaml v3 / kyaml, what Kustomize and kubectl read: true/false only,
  // 0755 and 0o755 octal, 0x hex, .inf/.nan.
  kKubernetes,
  // go-yaml v2 / YAML 1.1, what Helm reads values with: additionally
  // yes/no/on/off/y/n (any case variant go-yaml knows) are booleans.
  kYaml11,
};

struct ParseOptions {
  std::string file;                      // named in every error
  Schema schema = Schema::kKubernetes;
  // Alias expansion budget: total nodes and scalar bytes that expanding
  // aliases may produce before parsing fails with kLimitExceeded.
  std::size_t max_nodes = 2'000'000;
  std::size_t max_alias_bytes = 64u << 20;
  // A key repeated in one mapping is an error unless this is set; then the
  // last value wins, as go-yaml v2 decoding into a map does (Kustomize reads
  // kustomization files that way).
  bool duplicate_keys_last_wins = false;
  // Documents larger than this are refused before parsing.
  std::size_t max_input_bytes = 64u << 20;
  // Store plain (unquoted) mapping keys the way sigs.k8s.io/yaml turns
  // them into JSON keys: resolved under `schema`, booleans as "true"/
  // "false", numbers as Go prints them (so under kYaml11 `n:` becomes
  // "false" and `0x10:` becomes "16"). Helm reads values this way.
  bool resolve_plain_keys = false;
};

// Parses a multi-document stream. Empty documents (only comments, or a bare
// `---`) come back as null nodes so callers can tell positions apart.
Result<std::vector<Node>> ParseYamlStream(std::string_view text, const ParseOptions& options);

// Parses exactly one document (an empty input gives a null node).
Result<Node> ParseYaml(std::string_view text, const ParseOptions& options);

// The type a plain scalar resolves to under a schema.
Node ResolvePlainScalar(std::string_view text, Schema schema);

struct EmitOptions {
  // Sort mapping keys as go-yaml v2 sorts map keys (letters after other
  // characters, digit runs compared as numbers). Kustomize and toYaml both
  // print sorted keys; false keeps source order.
  bool sort_keys = true;
  // Column after which long plain and quoted scalars are folded.
  int width = 80;
  // Indent a block sequence under its mapping key by two spaces, as
  // go-yaml v3 does with SetIndent(2) (Helm's toYamlPretty); go-yaml v2
  // leaves it at the key's column.
  bool indent_sequences = false;
  // Print floats as go-yaml v2 prints what it reads back from Go's JSON
  // text of them, the round trip Helm's toYaml takes: a whole number
  // below 1e21 prints as the int64 or uint64 that text reads as (1e+06 as
  // 1000000, 1.2e+19 as 12000000000000000000), anything else as a float.
  bool floats_through_json = false;
};

// One document, ending with a newline, without a leading `---`.
std::string EmitYaml(const Node& node, const EmitOptions& options = {});

// Documents joined by "---\n", as `kubectl kustomize` prints them.
std::string EmitYamlStream(const std::vector<Node>& documents, const EmitOptions& options = {});

// Whether text is well-formed UTF-8 (no overlongs, no surrogates).
bool IsValidUtf8(std::string_view text);

// go-yaml v2's ordering of map keys, exposed for renderers that sort the same
// way.
bool GoYamlKeyLess(std::string_view a, std::string_view b);

}  // namespace keelson::manifest
