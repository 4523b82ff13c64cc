// YAML → Node through yaml-cpp's event API. yaml-cpp exceptions are turned
// into Errors here and nowhere else.
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <sstream>

#include "renderers/manifest/yaml.h"

namespace keelson::manifest {
namespace {

bool IsOneOf(std::string_view s, std::initializer_list<std::string_view> options) {
  for (std::string_view o : options) {
    if (s == o) return true;
  }
  return false;
}

// Go's strconv.ParseInt(s, 0, 64) / ParseUint: optional sign, then a 0x, 0o,
// 0b or leading-0 (octal) prefix, then digits of that base.
bool ParseGoInt(std::string_view s, std::int64_t* out, bool* overflow) {
  *overflow = false;
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  int base = 10;
  if (s.size() >= 2 && s[0] == '0') {
    char p = static_cast<char>(s[1] | 0x20);
    if (p == 'x') {
      base = 16;
      s.remove_prefix(2);
    } else if (p == 'o') {
      base = 8;
      s.remove_prefix(2);
    } else if (p == 'b') {
      base = 2;
      s.remove_prefix(2);
    } else {
      base = 8;
      s.remove_prefix(1);
    }
  }
  if (s.empty()) return false;
  std::uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ptr != s.data() + s.size()) return false;
  if (ec == std::errc::result_out_of_range) {
    *overflow = true;
    return false;
  }
  if (ec != std::errc()) return false;
  constexpr std::uint64_t kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (negative) {
    if (v > kMax + 1) {
      *overflow = true;
      return false;
    }
    *out = v == kMax + 1 ? std::numeric_limits<std::int64_t>::min() : -static_cast<std::int64_t>(v);
  } else {
    if (v > kMax) {
      *overflow = true;
      return false;
    }
    *out = static_cast<std::int64_t>(v);
  }
  return true;
}

bool MatchesYamlFloat(std::string_view s) {
  // ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$
  std::size_t i = 0;
  auto digits = [&] {
    std::size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i - start;
  };
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (digits() == 0) return false;
  } else {
    if (digits() == 0) return false;
    if (i < s.size() && s[i] == '.') {
      ++i;
      digits();
    }
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

double ParseDouble(std::string_view s) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc::result_out_of_range) {
    return (!s.empty() && s[0] == '-') ? -HUGE_VAL : HUGE_VAL;
  }
  (void)ptr;
  return v;
}

}  // namespace

Node ResolvePlainScalar(std::string_view text, Schema schema) {
  if (IsOneOf(text, {"", "~", "null", "Null", "NULL"})) return Node::Null();
  if (IsOneOf(text, {"true", "True", "TRUE"})) return Node::Bool(true);
  if (IsOneOf(text, {"false", "False", "FALSE"})) return Node::Bool(false);
  if (schema == Schema::kYaml11) {
    if (IsOneOf(text, {"y", "Y", "yes", "Yes", "YES", "on", "On", "ON"})) return Node::Bool(true);
    if (IsOneOf(text, {"n", "N", "no", "No", "NO", "off", "Off", "OFF"})) return Node::Bool(false);
  }
  if (IsOneOf(text, {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"})) {
    return Node::Float(HUGE_VAL);
  }
  if (IsOneOf(text, {"-.inf", "-.Inf", "-.INF"})) return Node::Float(-HUGE_VAL);
  if (IsOneOf(text, {".nan", ".NaN", ".NAN"})) return Node::Float(std::nan(""));
  char first = text[0];
  if (first == '.') {
    if (MatchesYamlFloat(text)) return Node::Float(ParseDouble(text));
    return Node::String(std::string(text));
  }
  if (first != '+' && first != '-' && (first < '0' || first > '9')) {
    return Node::String(std::string(text));
  }
  std::string plain;
  plain.reserve(text.size());
  for (char c : text) {
    if (c != '_') plain += c;
  }
  std::int64_t iv = 0;
  bool overflow = false;
  if (ParseGoInt(plain, &iv, &overflow)) return Node::Int(iv);
  if (MatchesYamlFloat(plain)) return Node::Float(ParseDouble(plain));
  if (overflow) return Node::Float(ParseDouble(plain));
  return Node::String(std::string(text));
}

namespace {

constexpr const char* kStrTag = "tag:yaml.org,2002:str";

// yaml-cpp turns the escapes \N and \_ into the single bytes 0x85 and 0xA0
// instead of their UTF-8 encodings; the input was checked to be UTF-8, so
// such stray bytes can only come from there.
std::string RepairEscapes(const std::string& value) {
  if (IsValidUtf8(value)) return value;
  std::string out;
  out.reserve(value.size() + 4);
  for (std::size_t i = 0; i < value.size();) {
    auto b = static_cast<unsigned char>(value[i]);
    std::size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
    if (len > 0 && i + len <= value.size() && IsValidUtf8(std::string_view(value).substr(i, len))) {
      out.append(value, i, len);
      i += len;
    } else {
      out += static_cast<char>(0xC0 | (b >> 6));
      out += static_cast<char>(0x80 | (b & 0x3F));
      ++i;
    }
  }
  return out;
}

// yaml-cpp ends a folded block scalar with keep chomping (">+") one line
// break short when blank lines follow its last line and that line is not
// more indented: "a: >+\n  x\n\nb: 1" gives "x\n" where YAML and go-yaml
// (so Helm) give "x\n\n". The scalar starting at byte `pos`
// of `text` is looked at again: its header, its indentation (the first
// content line's less the spaces yaml-cpp kept from it), and the blank
// lines after its last content line. The break is added back (into
// `repaired`, returning true) only where the value shows exactly that
// shortfall.
bool RepairFoldedKeep(const std::string& value, std::string_view text, std::size_t pos,
                      std::string* repaired) {
  auto at = [&](std::size_t i) { return i < text.size() ? text[i] : '\n'; };
  // Node properties (tag, anchor) come before the header.
  std::size_t i = pos;
  while (at(i) == '!' || at(i) == '&') {
    while (at(i) != ' ' && at(i) != '\t' && at(i) != '\n') ++i;
    while (at(i) == ' ' || at(i) == '\t') ++i;
  }
  if (at(i) != '>') return false;
  bool keep = false;
  for (++i; at(i) == '+' || at(i) == '-' || (at(i) >= '0' && at(i) <= '9'); ++i) keep |= at(i) == '+';
  if (!keep) return false;
  std::size_t content_end = value.find_last_not_of('\n');
  if (content_end == std::string::npos) return false;  // only blank lines: yaml-cpp is right
  std::size_t breaks = value.size() - content_end - 1;
  // The first line with something other than blanks, in the value and in
  // the source, is the same line; its spaces tell the block's indentation.
  std::size_t first_text = value.find_first_not_of(" \t\n");
  if (first_text == std::string::npos) return false;
  std::size_t first_line = value.rfind('\n', first_text);
  first_line = first_line == std::string::npos ? 0 : first_line + 1;
  std::size_t kept_spaces = value.find_first_not_of(' ', first_line) - first_line;
  std::size_t line_start = text.find('\n', i);
  std::size_t indent = 0, blank = 0;
  bool have_indent = false, last_more_indented = false;
  // line_start is at the break that ends the previous line; the text's last
  // break ends a line rather than starting one.
  while (line_start != std::string_view::npos && line_start + 1 < text.size()) {
    ++line_start;
    std::size_t line_end = std::min(text.find('\n', line_start), text.size());
    std::string_view line = text.substr(line_start, line_end - line_start);
    if (line.ends_with('\r')) line.remove_suffix(1);
    std::size_t spaces = std::min(line.find_first_not_of(' '), line.size());
    bool whitespace_only = line.find_first_not_of(" \t") == std::string_view::npos;
    if (!have_indent && !whitespace_only) {
      if (spaces < kept_spaces) return false;
      indent = spaces - kept_spaces;
      have_indent = true;
    }
    if (have_indent && ((spaces < indent && !whitespace_only) ||
                        (indent == 0 && (line.starts_with("---") || line.starts_with("..."))))) {
      break;  // the block ends at the first line indented less than its content
    }
    if (!have_indent) {
      // blank lines before the first content line are content of their own
    } else if (line.size() > indent) {
      last_more_indented = line[indent] == ' ' || line[indent] == '\t';
      blank = 0;
    } else {
      ++blank;
    }
    line_start = line_end;
  }
  if (blank == 0 || last_more_indented || breaks != blank) return false;
  *repaired = value + '\n';
  return true;
}

// The input must be UTF-8 without control characters other than tab, line
// feed and carriage return, as go-yaml requires. (yaml-cpp would otherwise
// guess UTF-16 from a NUL byte and read garbage.)
Status CheckInputText(std::string_view text, const std::string& file) {
  int line = 1, column = 1;
  for (std::size_t i = 0; i < text.size();) {
    auto b = static_cast<unsigned char>(text[i]);
    std::size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > text.size() || (len > 1 && !IsValidUtf8(text.substr(i, len)))) {
      return MakeError(ErrorCode::kInvalidInput, "invalid UTF-8 in YAML input", Location{file, line, column, {}});
    }
    if (len == 1 && b < 0x20 && b != '\t' && b != '\n' && b != '\r') {
      return MakeError(ErrorCode::kInvalidInput, "control character in YAML input",
                       Location{file, line, column, {}});
    }
    if (b == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
    i += len;
  }
  return Status::Ok();
}

Mark ToMark(const YAML::Mark& m) { return Mark{m.line + 1, m.column + 1}; }

struct StopParsing {
  Error error;
};

// Builds Nodes from parser events. Anchored nodes are remembered and copied
// on every alias, under the expansion budget.
class TreeBuilder : public YAML::EventHandler {
 public:
  TreeBuilder(const ParseOptions& options, std::string_view text) : options_(options), text_(text) {}

  void OnDocumentStart(const YAML::Mark&) override {
    stack_.clear();
    anchors_.clear();
    have_root_ = false;
    root_ = Node();
  }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (AwaitingKey()) {
      SetKey("null", mark, false);
      return;
    }
    Node n;
    n.set_mark(ToMark(mark));
    Complete(std::move(n), anchor);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) {
      Fail(ErrorCode::kInvalidInput, "unknown alias", mark);
    }
    Charge(it->second.nodes, it->second.bytes, mark);
    if (AwaitingKey()) {
      if (!it->second.node.IsScalar()) Fail(ErrorCode::kInvalidInput, "a mapping key must be a scalar", mark);
      SetKey(it->second.node.ScalarText(), mark, false);
      return;
    }
    Node copy = it->second.node;
    copy.set_mark(ToMark(mark));
    Complete(std::move(copy), 0);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& yaml_cpp_value) override {
    std::string repaired;
    const std::string& value =
        tag != "?" && RepairFoldedKeep(yaml_cpp_value, text_, static_cast<std::size_t>(mark.pos), &repaired)
            ? repaired
            : yaml_cpp_value;
    if (AwaitingKey()) {
      SetKey(RepairEscapes(value), mark, tag == "?");
      if (anchor != 0) anchors_[anchor] = Anchored{Node::String(value), 1, value.size()};
      return;
    }
    Node n = TypedScalar(tag, value, mark);
    n.set_mark(ToMark(mark));
    Complete(std::move(n), anchor);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    if (AwaitingKey()) Fail(ErrorCode::kInvalidInput, "a mapping key must be a scalar", mark);
    Open(Node::Sequence(), mark, anchor);
  }
  void OnSequenceEnd() override { Close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    if (AwaitingKey()) Fail(ErrorCode::kInvalidInput, "a mapping key must be a scalar", mark);
    Open(Node::Mapping(), mark, anchor);
  }
  void OnMapEnd() override { Close(); }

  Node TakeRoot() { return std::move(root_); }

 private:
  struct Frame {
    Node node;
    YAML::anchor_t anchor = 0;
    bool have_key = false;
    bool key_is_merge = false;
    std::string key;
    Mark key_mark;
    std::vector<Node> merges;  // values of `<<` keys, applied at the end
    std::size_t nodes_at_open = 0;
    std::size_t bytes_at_open = 0;
  };
  struct Anchored {
    Node node;
    std::size_t nodes = 0;
    std::size_t bytes = 0;
  };

  [[noreturn]] void Fail(ErrorCode code, std::string message, const YAML::Mark& mark) {
    Location where{options_.file, mark.line + 1, mark.column + 1, {}};
    throw StopParsing{MakeError(code, std::move(message), where)};
  }

  void Charge(std::size_t nodes, std::size_t bytes, const YAML::Mark& mark) {
    nodes_ += nodes;
    bytes_ += bytes;
    if (nodes_ > options_.max_nodes || bytes_ > options_.max_alias_bytes) {
      Fail(ErrorCode::kLimitExceeded,
           "alias expansion exceeds the limit of " + std::to_string(options_.max_nodes) + " nodes / " +
               std::to_string(options_.max_alias_bytes) + " bytes (an alias bomb?)",
           mark);
    }
  }

  bool AwaitingKey() const {
    return !stack_.empty() && stack_.back().node.IsMapping() && !stack_.back().have_key;
  }

  void SetKey(std::string key, const YAML::Mark& mark, bool plain) {
    if (plain && options_.resolve_plain_keys && key != "<<") {
      Node resolved = ResolvePlainScalar(key, options_.schema);
      if (resolved.IsBool() || resolved.IsInt() || resolved.IsFloat()) key = resolved.ScalarText();
    }
    Frame& f = stack_.back();
    f.key_is_merge = plain && key == "<<";
    if (!f.key_is_merge && f.node.Find(key) != nullptr) {
      if (options_.duplicate_keys_last_wins) {
        f.node.Erase(key);
      } else {
        Fail(ErrorCode::kInvalidInput, "mapping key \"" + key + "\" already defined", mark);
      }
    }
    f.key = std::move(key);
    f.key_mark = ToMark(mark);
    f.have_key = true;
    Charge(1, f.key.size(), mark);
  }

  Node TypedScalar(const std::string& tag, const std::string& value, const YAML::Mark& mark) {
    Charge(1, value.size(), mark);
    if (tag == "?") return ResolvePlainScalar(value, options_.schema);
    if (tag == "!" || tag == kStrTag) return Node::String(RepairEscapes(value));
    if (tag == "tag:yaml.org,2002:int" || tag == "tag:yaml.org,2002:float" ||
        tag == "tag:yaml.org,2002:bool" || tag == "tag:yaml.org,2002:null") {
      Node n = ResolvePlainScalar(value, options_.schema);
      bool fits = (tag.ends_with(":int") && n.IsInt()) ||
                  (tag.ends_with(":float") && (n.IsFloat() || n.IsInt())) ||
                  (tag.ends_with(":bool") && n.IsBool()) || (tag.ends_with(":null") && n.IsNull());
      if (!fits) Fail(ErrorCode::kInvalidInput, "cannot decode \"" + value + "\" as " + tag, mark);
      if (tag.ends_with(":float") && n.IsInt()) return Node::Float(static_cast<double>(n.AsInt()));
      return n;
    }
    // Other tags (application tags such as !Ref, !!binary, !!timestamp)
    // keep the text.
    return Node::String(value);
  }

  void Open(Node node, const YAML::Mark& mark, YAML::anchor_t anchor) {
    Charge(1, 0, mark);
    if (stack_.size() >= kMaxDepth) Fail(ErrorCode::kLimitExceeded, "nesting deeper than 1000 levels", mark);
    node.set_mark(ToMark(mark));
    Frame f;
    f.node = std::move(node);
    f.anchor = anchor;
    f.nodes_at_open = nodes_;
    f.bytes_at_open = bytes_;
    stack_.push_back(std::move(f));
  }

  void Close() {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    for (Node& merge : f.merges) ApplyMerge(f.node, merge);
    std::size_t nodes = nodes_ - f.nodes_at_open + 1;
    std::size_t bytes = bytes_ - f.bytes_at_open;
    if (f.anchor != 0) anchors_[f.anchor] = Anchored{f.node, nodes, bytes};
    Attach(std::move(f.node));
  }

  void Complete(Node node, YAML::anchor_t anchor) {
    if (anchor != 0) {
      std::size_t bytes = node.IsString() ? node.AsString().size() : 0;
      anchors_[anchor] = Anchored{node, 1, bytes};
    }
    Attach(std::move(node));
  }

  void Attach(Node node) {
    if (stack_.empty()) {
      root_ = std::move(node);
      have_root_ = true;
      return;
    }
    Frame& parent = stack_.back();
    if (parent.node.IsSequence()) {
      parent.node.Append(std::move(node));
      return;
    }
    if (parent.key_is_merge) {
      parent.merges.push_back(std::move(node));
    } else {
      parent.node.entries().push_back(Node::Entry{std::move(parent.key), std::move(node), parent.key_mark});
    }
    parent.have_key = false;
    parent.key_is_merge = false;
    parent.key.clear();
  }

  // `<<: *base` or `<<: [*a, *b]`: keys not set explicitly come from the
  // merged mappings, earlier ones first.
  void ApplyMerge(Node& target, const Node& merge) {
    auto merge_one = [&](const Node& m) {
      if (!m.IsMapping()) {
        throw StopParsing{MakeError(ErrorCode::kInvalidInput,
                                    "map merge requires a mapping or a list of mappings",
                                    Location{options_.file, m.mark().line, m.mark().column, {}})};
      }
      for (const Node::Entry& e : m.entries()) {
        if (target.Find(e.key) == nullptr) target.entries().push_back(e);
      }
    };
    if (merge.IsSequence()) {
      for (const Node& m : merge.items()) merge_one(m);
    } else {
      merge_one(merge);
    }
  }

  static constexpr std::size_t kMaxDepth = 1000;
  const ParseOptions& options_;
  std::string_view text_;  // the input, to look again at what yaml-cpp reads wrongly
  std::vector<Frame> stack_;
  std::map<YAML::anchor_t, Anchored> anchors_;
  Node root_;
  bool have_root_ = false;
  std::size_t nodes_ = 0;
  std::size_t bytes_ = 0;
};

}  // namespace

Result<std::vector<Node>> ParseYamlStream(std::string_view text, const ParseOptions& options) {
  if (text.size() > options.max_input_bytes) {
    return MakeError(ErrorCode::kLimitExceeded,
                     "document of " + std::to_string(text.size()) + " bytes exceeds the limit of " +
                         std::to_string(options.max_input_bytes),
                     Location{options.file, 0, 0, {}});
  }
  // A UTF-8 byte order mark is allowed at the start, as in Go's YAML readers.
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  if (Status s = CheckInputText(text, options.file); !s) return std::move(s).error();
  std::istringstream in{std::string(text)};
  std::vector<Node> documents;
  try {
    YAML::Parser parser(in);
    TreeBuilder builder(options, text);
    // Every real document takes at least a few bytes of input; more
    // documents than that means the parser stopped making progress on
    // malformed input, which must end in an error rather than a hang.
    const std::size_t max_documents = text.size() / 2 + 2;
    while (parser.HandleNextDocument(builder)) {
      documents.push_back(builder.TakeRoot());
      if (documents.size() > max_documents) {
        return MakeError(ErrorCode::kInvalidInput, "invalid YAML: the parser stopped making progress",
                         Location{options.file, 0, 0, {}});
      }
    }
  } catch (const StopParsing& stop) {
    return stop.error;
  } catch (const YAML::Exception& e) {
    Location where{options.file, e.mark.is_null() ? 0 : e.mark.line + 1,
                   e.mark.is_null() ? 0 : e.mark.column + 1, {}};
    return MakeError(ErrorCode::kInvalidInput, "invalid YAML: " + e.msg, where);
  }
  return documents;
}

Result<Node> ParseYaml(std::string_view text, const ParseOptions& options) {
  Result<std::vector<Node>> docs = ParseYamlStream(text, options);
  if (!docs.ok()) return std::move(docs).error();
  if (docs->empty()) return Node();
  if (docs->size() > 1) {
    return MakeError(ErrorCode::kInvalidInput,
                     "expected one YAML document, found " + std::to_string(docs->size()),
                     Location{options.file, (*docs)[1].mark().line, 0, {}});
  }
  return std::move((*docs)[0]);
}

}  // namespace keelson::manifest
