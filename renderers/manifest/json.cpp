#include "renderers/manifest/json.h"

#include <cmath>
#include <cstdint>
#include <vector>

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

namespace {

// As deep as the YAML parser goes; the tree is destroyed recursively.
constexpr std::size_t kMaxJsonDepth = 1000;

// Builds the Node tree straight from nlohmann's SAX events. Every failure
// reaches parse_error with its byte offset, whatever its kind: nlohmann's
// DOM parser throws out_of_range (not parse_error) for a number beyond a
// double, such as 1e999, which escaped ParseJson and ended the process.
class NodeBuilder final : public nlohmann::json_sax<nlohmann::ordered_json> {
 public:
  struct Failure {
    ErrorCode code = ErrorCode::kInvalidInput;
    std::string message;
    std::size_t index = 0;  // 0-based byte the error points at
    bool too_deep = false;  // index unknown: find the opener past the cap
  };

  bool null() override { return Add(Node::Null()); }
  bool boolean(bool value) override { return Add(Node::Bool(value)); }
  bool number_integer(number_integer_t value) override { return Add(Node::Int(value)); }
  bool number_unsigned(number_unsigned_t value) override {
    if (value <= static_cast<number_unsigned_t>(INT64_MAX)) return Add(Node::Int(static_cast<std::int64_t>(value)));
    return Add(Node::Float(static_cast<double>(value)));
  }
  bool number_float(number_float_t value, const string_t&) override { return Add(Node::Float(value)); }
  bool string(string_t& value) override { return Add(Node::String(std::move(value))); }
  bool binary(binary_t&) override { return Add(Node::Null()); }  // JSON text has no binary values
  bool start_object(std::size_t) override { return Open(Node::Mapping()); }
  bool key(string_t& name) override {
    open_.back().key = std::move(name);
    return true;
  }
  bool end_object() override { return Close(); }
  bool start_array(std::size_t) override { return Open(Node::Sequence()); }
  bool end_array() override { return Close(); }

  bool parse_error(std::size_t position, const std::string& last_token,
                   const nlohmann::ordered_json::exception& ex) override {
    std::string message = ex.what();
    if (dynamic_cast<const nlohmann::ordered_json::parse_error*>(&ex) != nullptr) {
      // "[json.exception.parse_error.101] parse error at line 3, column 8: ..."
      if (auto pos = message.find("parse error"); pos != std::string::npos) message = message.substr(pos);
      failure_.index = position > 0 ? position - 1 : 0;
    } else {
      // out_of_range: position is just past the number, last_token is it.
      if (auto pos = message.find("] "); pos != std::string::npos) message = message.substr(pos + 2);
      failure_.index = position >= last_token.size() ? position - last_token.size() : 0;
    }
    failure_.message = "invalid JSON: " + message;
    return false;
  }

  Node& root() { return root_; }
  const Failure& failure() const { return failure_; }

 private:
  struct Frame {
    Node node;
    std::string key;
  };

  bool Add(Node value) {
    if (open_.empty()) {
      root_ = std::move(value);
    } else if (open_.back().node.IsSequence()) {
      open_.back().node.Append(std::move(value));
    } else {
      // A repeated key keeps its first position and takes the last value.
      open_.back().node.Set(open_.back().key, std::move(value));
    }
    return true;
  }
  bool Open(Node collection) {
    if (open_.size() >= kMaxJsonDepth) {
      failure_.code = ErrorCode::kLimitExceeded;
      failure_.message = "JSON nests deeper than " + std::to_string(kMaxJsonDepth) + " levels";
      failure_.too_deep = true;
      return false;
    }
    open_.push_back(Frame{std::move(collection), {}});
    return true;
  }
  bool Close() {
    Node done = std::move(open_.back().node);
    open_.pop_back();
    return Add(std::move(done));
  }

  Node root_;
  std::vector<Frame> open_;
  Failure failure_;
};

// The byte of the first '[' or '{' nested `depth` deep, in text that is
// valid JSON up to that point (strings are skipped).
std::size_t OffsetOfDepth(std::string_view text, std::size_t depth) {
  std::size_t level = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++level == depth) return i;
    } else if (c == ']' || c == '}') {
      --level;
    }
  }
  return text.size();
}

}  // namespace

Result<Node> ParseJson(std::string_view text, const std::string& file) {
  NodeBuilder builder;
  if (nlohmann::ordered_json::sax_parse(text, &builder)) return std::move(builder.root());
  NodeBuilder::Failure failure = builder.failure();
  if (failure.too_deep) failure.index = OffsetOfDepth(text, kMaxJsonDepth + 1);
  std::size_t index = std::min(failure.index, text.size());
  int line = 1, column = 1;
  for (std::size_t i = 0; i < index; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return MakeError(failure.code, failure.message, Location{file, line, column, {}});
}

std::string EmitJson(const Node& node) { return ToJson(node).dump(); }

void NormalizeJsonNumbers(Node& node) {
  switch (node.type()) {
    case Node::Type::kFloat: {
      double f = node.AsFloat();
      // Go's encoding/json prints floats with 'f' below 1e21 and those
      // without a fraction read back as integers (past int64 they stay
      // floats here).
      if (std::optional<std::int64_t> whole = GoJsonRoundTripInt(f)) node = Node::Int(*whole);
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
