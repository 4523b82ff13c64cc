#include "policies/engine/regex.h"

#include <algorithm>
#include <string>
#include <utility>

namespace keelson::policy {
namespace {

using Range = Regex::Range;
using Inst = Regex::Inst;
using Op = Regex::Op;

constexpr std::uint32_t kMaxRune = 0x10FFFF;
constexpr int kMaxNesting = 100;

// Decodes one UTF-8 sequence at text[*pos]; invalid bytes decode as
// themselves so every byte is consumed.
std::uint32_t DecodeRune(std::string_view text, std::size_t* pos) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char c = byte(*pos);
  std::size_t len = 1;
  std::uint32_t rune = c;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    rune = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    rune = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    rune = c & 0x07;
  }
  if (len > 1) {
    if (*pos + len > text.size()) {
      ++*pos;
      return c;
    }
    for (std::size_t i = 1; i < len; ++i) {
      unsigned char cc = byte(*pos + i);
      if ((cc & 0xC0) != 0x80) {
        ++*pos;
        return c;
      }
      rune = (rune << 6) | (cc & 0x3F);
    }
  }
  *pos += len;
  return rune;
}

std::vector<Range> Normalize(std::vector<Range> ranges) {
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) { return a.lo < b.lo; });
  std::vector<Range> out;
  for (const Range& r : ranges) {
    if (!out.empty() && r.lo <= out.back().hi + 1) {
      out.back().hi = std::max(out.back().hi, r.hi);
    } else {
      out.push_back(r);
    }
  }
  return out;
}

std::vector<Range> Complement(const std::vector<Range>& sorted) {
  std::vector<Range> out;
  std::uint32_t next = 0;
  for (const Range& r : sorted) {
    if (r.lo > next) out.push_back({next, r.lo - 1});
    next = r.hi + 1;
  }
  if (next <= kMaxRune) out.push_back({next, kMaxRune});
  return out;
}

// ASCII case folding: a class matching 'a' also matches 'A' and the reverse.
void FoldCase(std::vector<Range>& ranges) {
  std::vector<Range> extra;
  for (const Range& r : ranges) {
    std::uint32_t lo = std::max<std::uint32_t>(r.lo, 'a'), hi = std::min<std::uint32_t>(r.hi, 'z');
    if (lo <= hi) extra.push_back({lo - 32, hi - 32});
    lo = std::max<std::uint32_t>(r.lo, 'A');
    hi = std::min<std::uint32_t>(r.hi, 'Z');
    if (lo <= hi) extra.push_back({lo + 32, hi + 32});
  }
  ranges.insert(ranges.end(), extra.begin(), extra.end());
}

const std::vector<Range>& DigitRanges() {
  static const std::vector<Range> r = {{'0', '9'}};
  return r;
}
const std::vector<Range>& WordRanges() {
  static const std::vector<Range> r = {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
  return r;
}
const std::vector<Range>& SpaceRanges() {
  static const std::vector<Range> r = {{'\t', '\n'}, {'\f', '\r'}, {' ', ' '}};
  return r;
}

bool IsWordRune(std::uint32_t r) {
  return (r >= '0' && r <= '9') || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') || r == '_';
}

struct Node {
  enum class Kind { kEmpty, kClass, kAny, kBegin, kEnd, kWord, kNotWord, kConcat, kAlt, kRepeat };
  Kind kind = Kind::kEmpty;
  std::vector<Range> ranges;  // kClass, normalized
  std::vector<Node> kids;
  int min = 0, max = 0;       // kRepeat; max -1 = unbounded
};

struct ParseError {
  std::size_t offset;
  std::string message;
};

class Parser {
 public:
  explicit Parser(std::string_view p) : p_(p) {}

  Node ParseAll() {
    // Flags only at the very start: (?i), (?s), (?is), (?si).
    if (p_.starts_with("(?")) {
      std::size_t close = p_.find(')');
      std::string_view flags = close == std::string_view::npos ? "" : p_.substr(2, close - 2);
      if (!flags.empty() && flags.find_first_not_of("is") == std::string_view::npos) {
        fold_ = flags.find('i') != std::string_view::npos;
        dot_newline_ = flags.find('s') != std::string_view::npos;
        pos_ = close + 1;
      }
    }
    Node n = ParseAlt(0);
    if (pos_ < p_.size()) Fail(pos_, "unmatched ')'");
    return n;
  }

 private:
  [[noreturn]] void Fail(std::size_t at, std::string message) { throw ParseError{at, std::move(message)}; }

  Node ParseAlt(int depth) {
    if (depth > kMaxNesting) Fail(pos_, "pattern nests deeper than 100 groups");
    Node first = ParseConcat(depth);
    if (pos_ >= p_.size() || p_[pos_] != '|') return first;
    Node alt;
    alt.kind = Node::Kind::kAlt;
    alt.kids.push_back(std::move(first));
    while (pos_ < p_.size() && p_[pos_] == '|') {
      ++pos_;
      alt.kids.push_back(ParseConcat(depth));
    }
    return alt;
  }

  Node ParseConcat(int depth) {
    Node cat;
    cat.kind = Node::Kind::kConcat;
    while (pos_ < p_.size() && p_[pos_] != '|' && p_[pos_] != ')') cat.kids.push_back(ParseRepeat(depth));
    if (cat.kids.size() == 1) return std::move(cat.kids[0]);
    if (cat.kids.empty()) return Node{};
    return cat;
  }

  bool ParseCount(int* min, int* max) {
    // At '{'; leaves pos_ after '}' on success, untouched otherwise.
    std::size_t i = pos_ + 1;
    auto number = [&](int* out) {
      std::size_t start = i;
      long v = 0;
      while (i < p_.size() && p_[i] >= '0' && p_[i] <= '9') {
        v = v * 10 + (p_[i] - '0');
        if (v > 100000) v = 100000;
        ++i;
      }
      *out = static_cast<int>(v);
      return i > start;
    };
    if (!number(min)) return false;
    if (i < p_.size() && p_[i] == '}') {
      *max = *min;
    } else if (i < p_.size() && p_[i] == ',') {
      ++i;
      if (i < p_.size() && p_[i] == '}') {
        *max = -1;
      } else if (!number(max) || i >= p_.size() || p_[i] != '}') {
        return false;
      }
    } else {
      return false;
    }
    pos_ = i + 1;
    return true;
  }

  Node ParseRepeat(int depth) {
    Node atom = ParseAtom(depth);
    bool repeated = false;
    while (pos_ < p_.size()) {
      char c = p_[pos_];
      std::size_t op_at = pos_;
      int min = 0, max = 0;
      if (c == '*') {
        min = 0, max = -1, ++pos_;
      } else if (c == '+') {
        min = 1, max = -1, ++pos_;
      } else if (c == '?') {
        min = 0, max = 1, ++pos_;
      } else if (c == '{' && ParseCount(&min, &max)) {
        if (min > Regex::kMaxRepeat || max > Regex::kMaxRepeat) Fail(op_at, "repetition count above 1000");
        if (max != -1 && max < min) Fail(op_at, "invalid repetition range: maximum below minimum");
      } else {
        break;
      }
      if (repeated) Fail(op_at, "bad repetition operator: a quantifier cannot follow another");
      repeated = true;
      if (pos_ < p_.size() && p_[pos_] == '?') ++pos_;  // lazy: same language
      Node rep;
      rep.kind = Node::Kind::kRepeat;
      rep.min = min;
      rep.max = max;
      rep.kids.push_back(std::move(atom));
      atom = std::move(rep);
    }
    return atom;
  }

  Node Class(std::vector<Range> ranges, bool negate) {
    if (fold_) FoldCase(ranges);
    ranges = Normalize(std::move(ranges));
    if (negate) ranges = Complement(ranges);
    Node n;
    n.kind = Node::Kind::kClass;
    n.ranges = std::move(ranges);
    return n;
  }

  Node ParseAtom(int depth) {
    std::size_t start = pos_;
    char c = p_[pos_];
    switch (c) {
      case '(': {
        ++pos_;
        if (p_.substr(pos_).starts_with("?:")) {
          pos_ += 2;
        } else if (p_.substr(pos_).starts_with("?P<") || p_.substr(pos_).starts_with("?<")) {
          std::size_t close = p_.find('>', pos_);
          if (close == std::string_view::npos) Fail(start, "unterminated group name");
          pos_ = close + 1;
        } else if (pos_ < p_.size() && p_[pos_] == '?') {
          Fail(start, "unsupported group syntax (lookaround and inline flags are not supported)");
        }
        Node inner = ParseAlt(depth + 1);
        if (pos_ >= p_.size() || p_[pos_] != ')') Fail(start, "missing ')'");
        ++pos_;
        return inner;
      }
      case '[': return ParseClass();
      case '.': {
        ++pos_;
        Node n;
        n.kind = Node::Kind::kAny;
        n.min = dot_newline_ ? 1 : 0;
        return n;
      }
      case '^': ++pos_; return Node{Node::Kind::kBegin, {}, {}, 0, 0};
      case '$': ++pos_; return Node{Node::Kind::kEnd, {}, {}, 0, 0};
      case '*':
      case '+':
      case '?': Fail(start, "missing argument to repetition operator");
      case '\\': return ParseEscapeAtom();
      default: {
        std::uint32_t rune = DecodeRune(p_, &pos_);
        return Class({{rune, rune}}, false);
      }
    }
  }

  // After a backslash: fills ranges (and negate) for a class escape, or
  // returns false with *rune set for a literal.
  bool Escape(std::vector<Range>* ranges, bool* negate, std::uint32_t* rune) {
    std::size_t at = pos_ - 1;
    if (pos_ >= p_.size()) Fail(at, "trailing backslash at end of pattern");
    char c = p_[pos_++];
    *negate = false;
    switch (c) {
      case 'd': *ranges = DigitRanges(); return true;
      case 'D': *ranges = DigitRanges(), *negate = true; return true;
      case 'w': *ranges = WordRanges(); return true;
      case 'W': *ranges = WordRanges(), *negate = true; return true;
      case 's': *ranges = SpaceRanges(); return true;
      case 'S': *ranges = SpaceRanges(), *negate = true; return true;
      case 'n': *rune = '\n'; return false;
      case 't': *rune = '\t'; return false;
      case 'r': *rune = '\r'; return false;
      case 'f': *rune = '\f'; return false;
      case 'v': *rune = '\v'; return false;
      case 'x': {
        std::uint32_t v = 0;
        auto hex = [&](char h) -> int {
          if (h >= '0' && h <= '9') return h - '0';
          if (h >= 'a' && h <= 'f') return h - 'a' + 10;
          if (h >= 'A' && h <= 'F') return h - 'A' + 10;
          return -1;
        };
        if (pos_ < p_.size() && p_[pos_] == '{') {
          ++pos_;
          int digits = 0;
          while (pos_ < p_.size() && p_[pos_] != '}') {
            int h = hex(p_[pos_]);
            if (h < 0 || ++digits > 6) Fail(at, "invalid escape \\x{...}");
            v = v * 16 + static_cast<std::uint32_t>(h);
            ++pos_;
          }
          if (pos_ >= p_.size() || digits == 0 || v > kMaxRune) Fail(at, "invalid escape \\x{...}");
          ++pos_;
        } else {
          if (pos_ + 2 > p_.size() || hex(p_[pos_]) < 0 || hex(p_[pos_ + 1]) < 0) Fail(at, "invalid escape \\x");
          v = static_cast<std::uint32_t>(hex(p_[pos_]) * 16 + hex(p_[pos_ + 1]));
          pos_ += 2;
        }
        *rune = v;
        return false;
      }
      case 'p':
      case 'P': Fail(at, "Unicode classes \\p{...} are not supported");
      default: break;
    }
    if (c >= '1' && c <= '9') Fail(at, "backreferences are not supported");
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        static_cast<unsigned char>(c) >= 0x80) {
      Fail(at, std::string("invalid escape \\") + c);
    }
    *rune = static_cast<unsigned char>(c);
    return false;
  }

  Node ParseEscapeAtom() {
    ++pos_;
    if (pos_ < p_.size()) {
      char c = p_[pos_];
      Node n;
      if (c == 'b' || c == 'B') {
        ++pos_;
        n.kind = c == 'b' ? Node::Kind::kWord : Node::Kind::kNotWord;
        return n;
      }
      if (c == 'A' || c == 'z') {
        ++pos_;
        n.kind = c == 'A' ? Node::Kind::kBegin : Node::Kind::kEnd;
        return n;
      }
    }
    std::vector<Range> ranges;
    bool negate = false;
    std::uint32_t rune = 0;
    if (Escape(&ranges, &negate, &rune)) return Class(std::move(ranges), negate);
    return Class({{rune, rune}}, false);
  }

  Node ParseClass() {
    std::size_t start = pos_++;
    bool negate = false;
    if (pos_ < p_.size() && p_[pos_] == '^') {
      negate = true;
      ++pos_;
    }
    std::vector<Range> ranges;
    bool first = true;
    while (true) {
      if (pos_ >= p_.size()) Fail(start, "missing closing ]");
      char c = p_[pos_];
      if (c == ']' && !first) {
        ++pos_;
        break;
      }
      first = false;
      if (c == '[' && p_.substr(pos_).starts_with("[:")) {
        std::size_t close = p_.find(":]", pos_ + 2);
        if (close == std::string_view::npos) Fail(pos_, "missing closing :]");
        std::string_view name = p_.substr(pos_ + 2, close - pos_ - 2);
        bool neg = name.starts_with('^');
        if (neg) name.remove_prefix(1);
        std::vector<Range> named = PosixClass(name, pos_);
        if (neg) named = Complement(Normalize(named));
        ranges.insert(ranges.end(), named.begin(), named.end());
        pos_ = close + 2;
        continue;
      }
      std::uint32_t lo = 0;
      std::size_t item_at = pos_;
      if (c == '\\') {
        ++pos_;
        std::vector<Range> esc;
        bool neg = false;
        if (Escape(&esc, &neg, &lo)) {
          if (neg) esc = Complement(Normalize(esc));
          ranges.insert(ranges.end(), esc.begin(), esc.end());
          continue;
        }
      } else {
        lo = DecodeRune(p_, &pos_);
      }
      std::uint32_t hi = lo;
      if (pos_ + 1 < p_.size() && p_[pos_] == '-' && p_[pos_ + 1] != ']') {
        ++pos_;
        if (p_[pos_] == '\\') {
          ++pos_;
          std::vector<Range> esc;
          bool neg = false;
          if (Escape(&esc, &neg, &hi)) Fail(item_at, "invalid character class range");
        } else {
          hi = DecodeRune(p_, &pos_);
        }
        if (hi < lo) Fail(item_at, "invalid character class range");
      }
      ranges.push_back({lo, hi});
    }
    return Class(std::move(ranges), negate);
  }

  std::vector<Range> PosixClass(std::string_view name, std::size_t at) {
    if (name == "alpha") return {{'A', 'Z'}, {'a', 'z'}};
    if (name == "digit") return {{'0', '9'}};
    if (name == "alnum") return {{'0', '9'}, {'A', 'Z'}, {'a', 'z'}};
    if (name == "upper") return {{'A', 'Z'}};
    if (name == "lower") return {{'a', 'z'}};
    if (name == "space") return {{'\t', '\r'}, {' ', ' '}};
    if (name == "xdigit") return {{'0', '9'}, {'A', 'F'}, {'a', 'f'}};
    if (name == "word") return WordRanges();
    if (name == "punct") return {{'!', '/'}, {':', '@'}, {'[', '`'}, {'{', '~'}};
    if (name == "blank") return {{'\t', '\t'}, {' ', ' '}};
    if (name == "cntrl") return {{0, 31}, {127, 127}};
    if (name == "print") return {{' ', '~'}};
    if (name == "graph") return {{'!', '~'}};
    if (name == "ascii") return {{0, 127}};
    Fail(at, "unknown character class [:" + std::string(name) + ":]");
  }

  std::string_view p_;
  std::size_t pos_ = 0;
  bool fold_ = false;
  bool dot_newline_ = false;
};

class Emitter {
 public:
  explicit Emitter(std::vector<Inst>& prog) : prog_(prog) {}

  void Emit(const Node& n) {
    if (prog_.size() > Regex::kMaxProgram) throw ParseError{0, "pattern too large (more than 20000 instructions)"};
    switch (n.kind) {
      case Node::Kind::kEmpty: return;
      case Node::Kind::kClass: Add(Inst{Op::kClass, false, 0, 0, n.ranges}); return;
      case Node::Kind::kAny: Add(Inst{n.min == 1 ? Op::kAny : Op::kAnyNotNewline, false, 0, 0, {}}); return;
      case Node::Kind::kBegin: Add(Inst{Op::kBegin, false, 0, 0, {}}); return;
      case Node::Kind::kEnd: Add(Inst{Op::kEnd, false, 0, 0, {}}); return;
      case Node::Kind::kWord: Add(Inst{Op::kWord, false, 0, 0, {}}); return;
      case Node::Kind::kNotWord: Add(Inst{Op::kNotWord, false, 0, 0, {}}); return;
      case Node::Kind::kConcat:
        for (const Node& k : n.kids) Emit(k);
        return;
      case Node::Kind::kAlt: {
        std::vector<int> jumps;
        for (std::size_t i = 0; i + 1 < n.kids.size(); ++i) {
          int split = Add(Inst{Op::kSplit, false, 0, 0, {}});
          prog_[split].x = Here();
          Emit(n.kids[i]);
          jumps.push_back(Add(Inst{Op::kJump, false, 0, 0, {}}));
          prog_[split].y = Here();
        }
        Emit(n.kids.back());
        for (int j : jumps) prog_[j].x = Here();
        return;
      }
      case Node::Kind::kRepeat: {
        const Node& kid = n.kids[0];
        for (int i = 0; i < n.min; ++i) Emit(kid);
        if (n.max == -1) {
          int split = Add(Inst{Op::kSplit, false, 0, 0, {}});
          prog_[split].x = Here();
          Emit(kid);
          int jump = Add(Inst{Op::kJump, false, 0, 0, {}});
          prog_[jump].x = split;
          prog_[split].y = Here();
          return;
        }
        std::vector<int> splits;
        for (int i = n.min; i < n.max; ++i) {
          int split = Add(Inst{Op::kSplit, false, 0, 0, {}});
          prog_[split].x = Here();
          splits.push_back(split);
          Emit(kid);
        }
        for (int s : splits) prog_[s].y = Here();
        return;
      }
    }
  }

  int Add(Inst inst) {
    prog_.push_back(std::move(inst));
    return static_cast<int>(prog_.size()) - 1;
  }
  int Here() const { return static_cast<int>(prog_.size()); }

 private:
  std::vector<Inst>& prog_;
};

// A set of program counters with O(1) insert, membership and clear.
class SparseSet {
 public:
  explicit SparseSet(std::size_t n) : dense_(n), sparse_(n) {}
  bool Contains(int i) const {
    std::size_t s = sparse_[static_cast<std::size_t>(i)];
    return s < size_ && dense_[s] == i;
  }
  void Insert(int i) {
    sparse_[static_cast<std::size_t>(i)] = size_;
    dense_[size_++] = i;
  }
  void Clear() { size_ = 0; }
  std::size_t size() const { return size_; }
  int at(std::size_t k) const { return dense_[k]; }

 private:
  std::vector<int> dense_;
  std::vector<std::size_t> sparse_;
  std::size_t size_ = 0;
};

}  // namespace

Result<std::shared_ptr<const Regex>> Regex::Compile(std::string_view pattern) {
  auto re = std::make_shared<Regex>();
  try {
    Parser parser(pattern);
    Node root = parser.ParseAll();
    Emitter emitter(re->program_);
    emitter.Emit(root);
    emitter.Add(Inst{Op::kMatch, false, 0, 0, {}});
    if (re->program_.size() > kMaxProgram) throw ParseError{0, "pattern too large (more than 20000 instructions)"};
  } catch (const ParseError& e) {
    return MakeError(ErrorCode::kInvalidInput, "invalid regular expression: " + e.message,
                     Location{{}, 1, static_cast<int>(e.offset) + 1, {}});
  }
  return std::shared_ptr<const Regex>(std::move(re));
}

bool Regex::Search(std::string_view text) const { return Run(text, false); }
bool Regex::FullMatch(std::string_view text) const { return Run(text, true); }

bool Regex::Run(std::string_view text, bool anchored_full) const {
  std::vector<std::uint32_t> runes;
  runes.reserve(text.size());
  for (std::size_t pos = 0; pos < text.size();) runes.push_back(DecodeRune(text, &pos));
  const std::size_t n = runes.size();
  SparseSet current(program_.size()), next(program_.size());
  std::vector<int> stack;
  bool matched = false;

  // Follows the empty-width instructions from pc at position i.
  auto add = [&](SparseSet& set, int start_pc, std::size_t i) {
    stack.push_back(start_pc);
    while (!stack.empty()) {
      int pc = stack.back();
      stack.pop_back();
      if (set.Contains(pc)) continue;
      set.Insert(pc);
      const Inst& inst = program_[static_cast<std::size_t>(pc)];
      switch (inst.op) {
        case Op::kJump: stack.push_back(inst.x); break;
        case Op::kSplit:
          stack.push_back(inst.y);
          stack.push_back(inst.x);
          break;
        case Op::kBegin:
          if (i == 0) stack.push_back(pc + 1);
          break;
        case Op::kEnd:
          if (i == n) stack.push_back(pc + 1);
          break;
        case Op::kWord:
        case Op::kNotWord: {
          bool before = i > 0 && IsWordRune(runes[i - 1]);
          bool after = i < n && IsWordRune(runes[i]);
          if ((before != after) == (inst.op == Op::kWord)) stack.push_back(pc + 1);
          break;
        }
        case Op::kMatch:
          if (!anchored_full || i == n) matched = true;
          break;
        default: break;
      }
    }
  };

  for (std::size_t i = 0;; ++i) {
    if (!anchored_full || i == 0) add(current, 0, i);
    if (matched) return true;
    if (i == n) break;
    if (current.size() == 0 && anchored_full) return false;
    std::uint32_t r = runes[i];
    for (std::size_t k = 0; k < current.size(); ++k) {
      int pc = current.at(k);
      const Inst& inst = program_[static_cast<std::size_t>(pc)];
      bool step = false;
      switch (inst.op) {
        case Op::kAny: step = true; break;
        case Op::kAnyNotNewline: step = r != '\n'; break;
        case Op::kClass: {
          auto it = std::upper_bound(inst.ranges.begin(), inst.ranges.end(), r,
                                     [](std::uint32_t v, const Range& rg) { return v < rg.lo; });
          step = it != inst.ranges.begin() && r <= std::prev(it)->hi;
          break;
        }
        default: break;
      }
      if (step) add(next, pc + 1, i + 1);
    }
    std::swap(current, next);
    next.Clear();
    if (matched) return true;
  }
  return matched;
}

}  // namespace keelson::policy
