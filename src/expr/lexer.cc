#include "expr/lexer.h"

#include <cctype>
#include <charconv>
#include <cmath>

#include "core/cat.h"
#include "core/text.h"

namespace sluice::expr {

namespace {

bool IsLetter(unsigned char c) { return std::isalpha(c) || c == '_' || c == '$' || c >= 0x80; }
bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }

Status Err(int pos, std::string_view msg) { return absl::InvalidArgumentError(Cat(msg, "|", pos)); }

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A quoted string from src[*p] (the quote) to its closing quote.
Status LexString(std::string_view src, size_t* p, std::string* out) {
  const char quote = src[*p];
  const int start = static_cast<int>(*p);
  size_t k = *p + 1;
  while (true) {
    if (k >= src.size() || src[k] == '\n') return Err(start, "literal not terminated");
    char c = src[k];
    if (c == quote) break;
    if (c == '\r') {  // CRLF / CR inside a literal read as LF
      out->push_back('\n');
      k += (k + 1 < src.size() && src[k + 1] == '\n') ? 2 : 1;
      continue;
    }
    if (c != '\\') {
      out->push_back(c);
      ++k;
      continue;
    }
    if (++k >= src.size()) return Err(start, "literal not terminated");
    const char e = src[k++];
    switch (e) {
      case 'a': out->push_back('\a'); break;
      case 'b': out->push_back('\b'); break;
      case 'f': out->push_back('\f'); break;
      case 'n': out->push_back('\n'); break;
      case 'r': out->push_back('\r'); break;
      case 't': out->push_back('\t'); break;
      case 'v': out->push_back('\v'); break;
      case '\\': out->push_back('\\'); break;
      case '\'':
      case '"':
        if (e != quote) return Err(static_cast<int>(k - 2), "invalid char escape");
        out->push_back(e);
        break;
      case 'x': {
        if (k + 2 > src.size() || HexVal(src[k]) < 0 || HexVal(src[k + 1]) < 0)
          return Err(static_cast<int>(k - 2), "invalid char escape");
        out->push_back(static_cast<char>(HexVal(src[k]) * 16 + HexVal(src[k + 1])));
        k += 2;
        break;
      }
      case 'u':
      case 'U': {
        uint32_t cp = 0;
        if (e == 'u' && k < src.size() && src[k] == '{') {
          size_t d = k + 1, nd = 0;
          while (d < src.size() && HexVal(src[d]) >= 0 && nd < 7)
            cp = cp * 16 + HexVal(src[d++]), ++nd;
          if (nd == 0 || nd > 6 || d >= src.size() || src[d] != '}')
            return Err(static_cast<int>(k - 2), "invalid char escape");
          k = d + 1;
        } else {
          const size_t want = e == 'u' ? 4 : 8;
          if (k + want > src.size()) return Err(static_cast<int>(k - 2), "invalid char escape");
          for (size_t d = 0; d < want; ++d) {
            const int h = HexVal(src[k + d]);
            if (h < 0) return Err(static_cast<int>(k - 2), "invalid char escape");
            cp = cp * 16 + h;
          }
          k += want;
        }
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000))
          return Err(static_cast<int>(k - 2), "escape sequence is invalid Unicode code point");
        AppendUtf8(cp, out);
        break;
      }
      default:
        if (e >= '0' && e <= '3' && k + 2 <= src.size() && src[k] >= '0' && src[k] <= '7' &&
            src[k + 1] >= '0' && src[k + 1] <= '7') {
          out->push_back(
              static_cast<char>((e - '0') * 64 + (src[k] - '0') * 8 + (src[k + 1] - '0')));
          k += 2;
          break;
        }
        return Err(static_cast<int>(k - 2), "invalid char escape");
    }
  }
  *p = k + 1;
  return absl::OkStatus();
}

Status LexNumber(std::string_view src, size_t* p, Token* t) {
  const size_t start = *p;
  size_t k = start;
  std::string digits;
  int base = 10;
  bool is_float = false;
  if (src[k] == '0' && k + 1 < src.size() && std::strchr("xXoObB", src[k + 1]) && src[k + 1]) {
    const char b = static_cast<char>(std::tolower(src[k + 1]));
    base = b == 'x' ? 16 : b == 'o' ? 8 : 2;
    k += 2;
    while (k < src.size() && (std::isalnum(static_cast<unsigned char>(src[k])) || src[k] == '_')) {
      if (src[k] != '_') digits.push_back(src[k]);
      ++k;
    }
  } else {
    while (k < src.size() && (IsDigit(src[k]) || src[k] == '_')) {
      if (src[k] != '_') digits.push_back(src[k]);
      ++k;
    }
    if (k < src.size() && src[k] == '.' && !(k + 1 < src.size() && src[k + 1] == '.')) {
      is_float = true;
      digits.push_back('.');
      ++k;
      while (k < src.size() && (IsDigit(src[k]) || src[k] == '_')) {
        if (src[k] != '_') digits.push_back(src[k]);
        ++k;
      }
    }
    if (k < src.size() && (src[k] == 'e' || src[k] == 'E')) {
      size_t e = k + 1;
      if (e < src.size() && (src[e] == '+' || src[e] == '-')) ++e;
      if (e < src.size() && IsDigit(src[e])) {
        is_float = true;
        digits.append(src.substr(k, e - k));
        k = e;
        while (k < src.size() && IsDigit(src[k])) digits.push_back(src[k++]);
      }
    }
  }
  if (k < src.size() && IsLetter(static_cast<unsigned char>(src[k])))
    return Err(static_cast<int>(start), "bad number syntax");
  t->pos = static_cast<int>(start);
  t->text = std::string(src.substr(start, k - start));
  *p = k;
  if (is_float) {
    t->kind = Tok::kFloat;
    if (digits.front() == '.') digits.insert(digits.begin(), '0');
    const char* b = digits.data();
    auto r = std::from_chars(b, b + digits.size(), t->f);
    if (r.ec == std::errc::result_out_of_range) {
      t->f = digits.find('e') != std::string::npos && digits.find("e-") != std::string::npos
                 ? 0.0
                 : HUGE_VAL;
    } else if (r.ec != std::errc() || r.ptr != b + digits.size()) {
      return Err(static_cast<int>(start), Cat("invalid float literal: ", t->text));
    }
    return absl::OkStatus();
  }
  t->kind = Tok::kInt;
  uint64_t v = 0;
  const char* b = digits.data();
  auto r = std::from_chars(b, b + digits.size(), v, base);
  if (digits.empty() || r.ec != std::errc() || r.ptr != b + digits.size() ||
      v > static_cast<uint64_t>(INT64_MAX))
    return Err(static_cast<int>(start), Cat("invalid integer literal: ", t->text));
  t->i = static_cast<int64_t>(v);
  return absl::OkStatus();
}

}  // namespace

StatusOr<std::vector<Token>> Lex(std::string_view src) {
  std::vector<Token> out;
  size_t p = 0;
  static constexpr std::string_view kOps[] = {"?.[", "==", "!=", "<=", ">=", "&&",
                                              "||",  "**", "??", "?.", ".."};
  while (true) {
    while (p < src.size()) {
      const unsigned char c = src[p];
      if (std::isspace(c)) {
        ++p;
      } else if (c == '/' && p + 1 < src.size() && src[p + 1] == '/') {
        while (p < src.size() && src[p] != '\n') ++p;
      } else if (c == '/' && p + 1 < src.size() && src[p + 1] == '*') {
        const size_t end = src.find("*/", p + 2);
        if (end == std::string_view::npos) return Err(static_cast<int>(p), "unclosed comment");
        p = end + 2;
      } else if (c == 0xC2 && p + 1 < src.size() &&
                 (static_cast<unsigned char>(src[p + 1]) == 0xA0 ||
                  static_cast<unsigned char>(src[p + 1]) == 0x85)) {
        p += 2;  // NBSP / NEL: Unicode spaces
      } else {
        break;
      }
    }
    Token t;
    t.pos = static_cast<int>(p);
    if (p >= src.size()) {
      // expr places the end of input on the last character.
      t.pos = static_cast<int>(src.empty() ? 0 : src.size() - 1);
      out.push_back(t);
      return out;
    }
    const unsigned char c = src[p];
    if (IsDigit(c) || (c == '.' && p + 1 < src.size() && IsDigit(src[p + 1]))) {
      if (Status s = LexNumber(src, &p, &t); !s.ok()) return s;
    } else if (c == '"' || c == '\'') {
      t.kind = Tok::kString;
      if (Status s = LexString(src, &p, &t.text); !s.ok()) return s;
    } else if (c == '`') {
      t.kind = Tok::kString;
      size_t k = p + 1;
      while (true) {
        if (k >= src.size()) return Err(static_cast<int>(p), "literal not terminated");
        if (src[k] == '`') {
          if (k + 1 < src.size() && src[k + 1] == '`') {
            t.text.push_back('`');
            k += 2;
            continue;
          }
          break;
        }
        t.text.push_back(src[k++]);
      }
      p = k + 1;
    } else if (c == '#') {
      t.kind = Tok::kPunct;
      size_t k = p + 1;
      while (k < src.size() && (IsLetter(src[k]) || IsDigit(src[k]))) ++k;
      t.text = std::string(src.substr(p, k - p));
      p = k;
    } else if (IsLetter(c)) {
      size_t k = p;
      while (k < src.size() && (IsLetter(src[k]) || IsDigit(src[k]))) ++k;
      t.text = std::string(src.substr(p, k - p));
      p = k;
      static const char* kWords[] = {"not",     "in",       "and",        "or",
                                     "matches", "contains", "startsWith", "endsWith"};
      t.kind = Tok::kIdent;
      for (const char* w : kWords)
        if (t.text == w) t.kind = Tok::kOperator;
    } else if (c == '(' || c == ')' || c == '[' || c == ']' || c == '{' || c == '}') {
      t.kind = Tok::kBracket;
      t.text = std::string(1, static_cast<char>(c));
      ++p;
    } else {
      t.kind = Tok::kOperator;
      bool done = false;
      for (std::string_view op : kOps) {
        if (src.substr(p, op.size()) != op) continue;
        t.text.assign(op.data(), op.size());
        p += op.size();
        done = true;
        break;
      }
      if (!done) {
        if (!std::strchr("+-*/%^<>!?:|.,;=", c))
          return Err(static_cast<int>(p), Cat("unrecognized character: U+", static_cast<int>(c)));
        t.text = std::string(1, static_cast<char>(c));
        ++p;
        if (c == ',' || c == ':' || c == ';') t.kind = Tok::kPunct;
      }
    }
    out.push_back(std::move(t));
  }
}

std::string FormatError(std::string_view src, int pos, std::string_view message) {
  pos = std::clamp(pos, 0, static_cast<int>(src.size()));
  int line = 1;
  size_t line_start = 0;
  for (int k = 0; k < pos; ++k)
    if (src[k] == '\n') ++line, line_start = k + 1;
  size_t line_end = src.find('\n', line_start);
  if (line_end == std::string_view::npos) line_end = src.size();
  // Columns count characters, not bytes.
  int col = 0;
  for (size_t k = line_start; k < static_cast<size_t>(pos); ++k)
    if ((static_cast<unsigned char>(src[k]) & 0xC0) != 0x80) ++col;
  return Cat(message, " (", line, ":", col + 1, ")\n | ",
             src.substr(line_start, line_end - line_start), "\n | ", std::string(col, '.'), "^");
}

}  // namespace sluice::expr
