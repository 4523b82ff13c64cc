#include "renderers/manifest/json.h"

#include <cmath>

namespace keelson::manifest {

nlohmann::ordered_json ToJson(const Node& node) {
  switch (node.type()) {
    case Node::Type::kNull:
      return nullptr;
    case Node::Type::kBool:
      return node.AsBool();
    case Node::Type::kInt:
      return node.AsInt();
    case Node::Type::kFloat:
      return node.AsFloat();
    case Node::Type::kString:
      return node.AsString();
    case Node::Type::kSequence: {
      nlohmann::ordered_json out = nlohmann::ordered_json::array();
      for (const Node& item : node.items()) out.push_back(ToJson(item));
      return out;
    }
    case Node::Type::kMapping: {
      nlohmann::ordered_json out = nlohmann::ordered_json::object();
      for (const Node::Entry& e : node.entries()) out[e.key] = ToJson(e.value);
      return out;
    }
  }
  return nullptr;
}

Node FromJson(const nlohmann::ordered_json& json) {
  switch (json.type()) {
    case nlohmann::json::value_t::null:
    case nlohmann::json::value_t::discarded:
      return Node::Null();
    case nlohmann::json::value_t::boolean:
      return Node::Bool(json.get<bool>());
    case nlohmann::json::value_t::number_integer:
      return Node::Int(json.get<std::int64_t>());
    case nlohmann::json::value_t::number_unsigned: {
      auto v = json.get<std::uint64_t>();
      if (v <= static_cast<std::uint64_t>(INT64_MAX)) return Node::Int(static_cast<std::int64_t>(v));
      return Node::Float(static_cast<double>(v));
    }
    case nlohmann::json::value_t::number_float:
      return Node::Float(json.get<double>());
    case nlohmann::json::value_t::string:
      return Node::String(json.get<std::string>());
    case nlohmann::json::value_t::binary:
      return Node::Null();
    case nlohmann::json::value_t::array: {
      Node out = Node::Sequence();
      for (const auto& item : json) out.Append(FromJson(item));
      return out;
    }
    case nlohmann::json::value_t::object: {
      Node out = Node::Mapping();
      for (const auto& [key, value] : json.items()) {
        out.entries().push_back(Node::Entry{key, FromJson(value), {}});
      }
      return out;
    }
  }
  return Node::Null();
}

Result<Node> ParseJson(std::string_view text, const std::string& file) {
  try {
    return FromJson(nlohmann::ordered_json::parse(text));
  } catch (const nlohmann::json::parse_error& e) {
    // nlohmann reports a byte offset; turn it into line and column.
    std::size_t offset = std::min<std::size_t>(e.byte, text.size());
    int line = 1, column = 1;
    for (std::size_t i = 0; i + 1 < offset; ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    std::string message = e.what();
    if (auto pos = message.find("parse error"); pos != std::string::npos) message = message.substr(pos);
    return MakeError(ErrorCode::kInvalidInput, "invalid JSON: " + message, Location{file, line, column, {}});
  }
}

std::string EmitJson(const Node& node) { return ToJson(node).dump(); }

void NormalizeJsonNumbers(Node& node) {
  switch (node.type()) {
    case Node::Type::kFloat: {
      double f = node.AsFloat();
      // Go's encoding/json prints floats with 'f' below 1e21 and those
      // without a fraction read back as integers.
      if (std::isfinite(f) && std::trunc(f) == f && std::fabs(f) < 1e21 &&
          std::fabs(f) <= 9.2233720368547758e18) {
        node = Node::Int(static_cast<std::int64_t>(f));
      }
      return;
    }
    case Node::Type::kSequence:
      for (Node& item : node.items()) NormalizeJsonNumbers(item);
      return;
    case Node::Type::kMapping:
      for (Node::Entry& e : node.entries()) NormalizeJsonNumbers(e.value);
      return;
    default:
      return;
  }
}

}  // namespace keelson::manifest
