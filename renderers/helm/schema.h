// values.schema.json validation, as `helm template` applies it.
//
// Helm checks the coalesced values of a chart against the chart's
// values.schema.json, and each enabled subchart's values against the
// subchart's own schema, with the JSON Schema library of Helm 3
// (gojsonschema: draft 4/6/7 keywords, `exclusiveMinimum`/`Maximum` as
// booleans or numbers). This reproduces its verdicts and its messages:
//
//   values don't meet the specifications of the schema(s) in the following chart(s):
//   mychart:
//   - replicaCount: Invalid type. Expected: integer, given: string
//   - (root): image is required
//
// Supported keywords: type (a name or a list), enum, const, properties,
// required, additionalProperties (boolean or schema), patternProperties,
// minProperties, maxProperties, propertyNames, dependencies, items (one
// schema or a list, with additionalItems), minItems, maxItems,
// uniqueItems, contains, minLength, maxLength, pattern (RE2, as Go's
// regexp), minimum, maximum, exclusiveMinimum, exclusiveMaximum,
// multipleOf, anyOf, oneOf, allOf, not, if/then/else, boolean schemas and
// $ref to a JSON pointer in the same document ("#/definitions/port").
// `format` is not checked. Where Go iterates a map (properties, reported
// additional properties), errors come in sorted key order, which Helm
// leaves random. Thread-safe; schemas are untrusted input: $ref chains and
// nesting are bounded.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "renderers/helm/chart.h"
#include "renderers/helm/value.h"
#include "renderers/manifest/result.h"

namespace keelson::helm {

// The lines Helm prints for one schema ("field: description"), in order;
// empty when the values are valid. Fails when the schema is not JSON or
// uses a $ref this does not resolve.
Result<std::vector<std::string>> CheckValuesAgainstSchema(std::string_view schema_json, const Value& values);

// Validates `values` (coalesced, as templates see them) against the
// chart's schema and recursively against each subchart's schema with the
// subchart's part of the values. The error carries Helm's message.
Status ValidateChartValues(const Chart& chart, const Value& values);

}  // namespace keelson::helm
