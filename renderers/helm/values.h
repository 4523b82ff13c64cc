// Chart values as Helm computes them: user values from -f files and --set
// flags, dependency enabling (condition, tags, alias), import-values, and
// coalescing with chart defaults (user values win, null deletes a default,
// maps merge, lists replace, `global` flows down to every subchart).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "renderers/helm/chart.h"
#include "renderers/helm/value.h"
#include "renderers/manifest/result.h"

namespace keelson::helm {

// A values file decoded as Helm decodes it (YAML 1.1 scalars, numbers as
// float64, no NaN or infinities); an empty file is an empty map. Chart.yaml
// and requirements.yaml are read the same way.
Result<Value> ParseValuesFile(std::string_view text, const std::string& file);

// Overlays b onto a (b wins, maps merge recursively); returns a new map.
Value MergeUserValues(const Value& a, const Value& b);

enum class SetKind {
  kTyped,   // --set: ints become int64, true/false booleans, null deletes
  kString,  // --set-string: every value is a string
};
// Applies one --set argument ("a.b=1,c[0]=x,d={x,y}") to the map `dest`.
Status ApplySet(Value& dest, std::string_view arg, SetKind kind);
// Applies one --set-file argument once the caller has read the file:
// `key` is the dotted path, `contents` the value.
Status ApplySetValue(Value& dest, std::string_view key, Value value);

// Enables or disables subcharts (condition, tags, alias) and applies
// import-values, mutating the chart tree as Helm does before rendering.
Status ProcessDependencies(Chart& chart, const Value& user_values);

// The final .Values of the root chart: user values over chart defaults,
// each subchart's section coalesced with its own defaults and globals.
Result<Value> CoalesceValues(const Chart& chart, const Value& user_values);

}  // namespace keelson::helm
