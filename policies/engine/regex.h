// Regular expressions for the policy language's matches(): a subset of RE2
// syntax, run by a Pike virtual machine so matching takes time linear in the
// text times the pattern size and never recurses (no catastrophic
// backtracking, no stack overflow on long inputs).
//
// Supported: literals, `.` (any code point but newline), classes `[a-z]`,
// `[^...]`, `[[:alpha:]]` and the other POSIX names, escapes \d \D \w \W \s
// \S \b \B \A \z \n \t \r \f \v \xHH \x{HHHH} and escaped punctuation,
// anchors ^ and $ (whole-text, as RE2 without the m flag), groups (...),
// (?:...), (?P<name>...), alternation |, quantifiers * + ? {n} {n,} {n,m}
// (and their lazy forms, which match the same texts), and a leading (?i)
// or (?s) flag group. Not supported (compile error): backreferences,
// lookaround, Unicode classes \p{...}, flags other than at the start.
// Text is read as UTF-8; invalid bytes each count as one character.
// A compiled Regex is immutable and safe to share between threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "renderers/manifest/result.h"

namespace keelson::policy {

class Regex {
 public:
  // Caps: a counted repetition may not exceed 1000, and the compiled
  // program may not exceed 20,000 instructions.
  static constexpr int kMaxRepeat = 1000;
  static constexpr std::size_t kMaxProgram = 20'000;

  // Errors carry the byte offset of the offending part of the pattern in
  // Location::column (1-based) and say what is wrong.
  static Result<std::shared_ptr<const Regex>> Compile(std::string_view pattern);

  // RE2's PartialMatch: true when the pattern matches anywhere in text.
  bool Search(std::string_view text) const;
  // RE2's FullMatch.
  bool FullMatch(std::string_view text) const;

  std::size_t program_size() const { return program_.size(); }

  struct Range {
    std::uint32_t lo, hi;
  };
  enum class Op : std::uint8_t { kClass, kAny, kAnyNotNewline, kSplit, kJump, kMatch, kBegin, kEnd, kWord, kNotWord };
  struct Inst {
    Op op;
    bool negated = false;
    int x = 0, y = 0;              // kSplit: both targets (x preferred); kJump: x
    std::vector<Range> ranges;     // kClass
  };

 private:
  bool Run(std::string_view text, bool anchored_full) const;
  std::vector<Inst> program_;
};

}  // namespace keelson::policy
