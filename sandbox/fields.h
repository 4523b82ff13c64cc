// Field ownership and patching: server-side apply with managedFields and
// conflicts, the bookkeeping that ordinary updates do to managedFields, and
// the three classic patch formats (JSON merge, strategic merge, JSON patch).
//
// Field sets use the fieldsV1 encoding of managedFields. A path is a list of
// elements "f:<field>", "k:<json key>" (an item of a list keyed by merge
// keys, e.g. containers by name) or "v:<json value>" (an item of a set-like
// list such as metadata.finalizers). Members of a set are scalars, atomic
// lists, empty maps and keyed list items; maps are not members themselves.
// Lists without known merge keys are atomic, as for custom resources without
// list-type markers. All functions are pure.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "renderers/manifest/result.h"
#include "sandbox/resources.h"

namespace keelson::sandbox {

using FieldPath = std::vector<std::string>;
using FieldSet = std::set<FieldPath>;

// The members of an object (apiVersion, kind and the server-owned metadata
// fields uid, resourceVersion, generation, creationTimestamp, managedFields,
// deletionTimestamp, name and namespace are left out). custom selects
// custom-resource list semantics (every list atomic).
FieldSet FieldSetOf(const Json& object, bool custom);

// fieldsV1 JSON for a set, and back. Decoding a malformed tree yields the
// members it can read.
Json EncodeFieldSet(const FieldSet& set);
FieldSet DecodeFieldSet(const Json& fields_v1);

// The value a path names in an object, or nullptr.
const Json* ResolvePath(const Json& object, const FieldPath& path, bool custom);

// ".spec.template.spec.containers[name=\"app\"].image": how conflicts name a
// field.
std::string PathToString(const FieldPath& path);

struct ApplyConflict {
  std::string manager;
  std::string field;  // PathToString form
};

struct ApplyOutcome {
  Json object;                           // merged object with new managedFields
  std::vector<ApplyConflict> conflicts;  // non-empty means nothing was applied
};

// Server-side apply of `config` by `manager` to `live` (null for an object
// that does not exist yet). Conflicts arise where config sets a value that
// differs from live and another manager owns the field; with force the
// fields move to this manager. Fields this manager applied before and no
// longer sets, and nobody else owns, are removed. `now` is the RFC 3339
// timestamp written into managedFields.
ApplyOutcome ServerSideApply(const Json& live, const Json& config, const std::string& manager, bool force,
                             const std::string& api_version, bool custom, const std::string& now);

// managedFields after an ordinary write (create, update, patch) by manager:
// the fields whose values it changed become its own (subresource "status"
// or ""), and fields that no longer exist leave every set.
Json TrackUpdate(const Json& before, const Json& after, const Json& managed_fields, const std::string& manager,
                 const std::string& subresource, const std::string& api_version, bool custom,
                 const std::string& now);

// RFC 7386 JSON merge patch.
Json MergePatch(const Json& original, const Json& patch);
// Kubernetes strategic merge patch for built-in kinds: keyed lists
// (containers, env, ports, volumes, ...) merge by key, $patch
// replace/delete, $retainKeys, $setElementOrder and
// $deleteFromPrimitiveList directives.
Result<Json> StrategicMergePatch(const Json& original, const Json& patch);
// RFC 6902 JSON patch.
Result<Json> JsonPatch(const Json& original, const Json& patch);

// Depth of nesting of a parsed value, counting up to limit+1.
int JsonDepth(const Json& value, int limit);

}  // namespace keelson::sandbox
