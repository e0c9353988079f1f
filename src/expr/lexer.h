// Tokens of expr-lang v1.17.7 (expressions.md §1.2): numbers in four bases with '_',
// strings with Go's escapes, raw strings, identifiers, word and symbol operators, comments.
// Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace sluice::expr {

enum class Tok : uint8_t { kEof, kIdent, kInt, kFloat, kString, kOperator, kBracket, kPunct };

struct Token {
  Tok kind = Tok::kEof;
  int pos = 0;       // byte offset
  std::string text;  // identifier, operator or punctuation; the decoded string literal
  int64_t i = 0;     // kInt
  double f = 0;      // kFloat
  bool Is(Tok k, std::string_view t) const { return kind == k && text == t; }
};

// The tokens of `src`, ending with kEof. A lexical error is InvalidArgument with
// "message|offset" (the parser turns the offset into line:col).
StatusOr<std::vector<Token>> Lex(std::string_view src);

// "line:col" (both 1-based) of a byte offset, and the source line with a caret under it,
// as expr prints them: "msg (1:5)\n | age > 18\n | ....^".
std::string FormatError(std::string_view src, int pos, std::string_view message);

}  // namespace sluice::expr
