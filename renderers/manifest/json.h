// JSON in and out for the object model: the Kubernetes wire format.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "renderers/manifest/node.h"
#include "renderers/manifest/result.h"

namespace keelson::manifest {

// Keys keep their order; integers that fit int64 stay integers.
nlohmann::ordered_json ToJson(const Node& node);
Node FromJson(const nlohmann::ordered_json& json);

// Parses a JSON text; errors name the file, line and column.
Result<Node> ParseJson(std::string_view text, const std::string& file);

// Compact JSON (no spaces), keys in node order.
std::string EmitJson(const Node& node);

// Applies what a JSON round trip through Go's encoding/json does to
// numbers, as Kustomize's output shows: floats with an integral value that
// Go prints without an exponent become integers (1.0 → 1, 1e3 → 1000).
void NormalizeJsonNumbers(Node& node);

}  // namespace keelson::manifest
