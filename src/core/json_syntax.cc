#include "core/json_syntax.h"

#include <cctype>
#include <vector>

namespace sluice {
namespace {

class Checker {
 public:
  explicit Checker(std::string_view t) : t_(t) {}

  JsonSyntaxError Run() {
    // The stack holds what each open container expects next.
    enum Expect : char {
      kValue,
      kKeyOrEnd,
      kKey,
      kColon,
      kCommaOrEndObj,
      kItemOrEnd,
      kCommaOrEndArr
    };
    std::vector<Expect> stack{kValue};
    while (true) {
      Space();
      if (stack.empty()) {
        if (i_ < t_.size()) return Fail("unexpected text after the end of the document");
        return {};
      }
      if (i_ >= t_.size())
        return Fail("unexpected end of the document (an object or array is not closed)");
      const char c = t_[i_];
      Expect& top = stack.back();
      switch (top) {
        case kKeyOrEnd:
        case kKey:
          if (c == '}' && top == kKeyOrEnd) {
            ++i_;
            stack.pop_back();
            break;
          }
          if (c != '"')
            return Fail(top == kKey ? "expected a quoted key after ','"
                                    : "expected a quoted key or '}'");
          if (!String()) return err_;
          top = kColon;
          break;
        case kColon:
          if (c != ':') return Fail("expected ':' after the key");
          ++i_;
          top = kCommaOrEndObj;
          stack.push_back(kValue);
          break;
        case kCommaOrEndObj:
          if (c == ',') {
            ++i_;
            top = kKey;
          } else if (c == '}') {
            ++i_;
            stack.pop_back();
          } else {
            return Fail("expected ',' or '}' after a value in an object");
          }
          break;
        case kItemOrEnd:
          if (c == ']') {
            ++i_;
            stack.pop_back();
            break;
          }
          top = kCommaOrEndArr;
          stack.push_back(kValue);
          break;
        case kCommaOrEndArr:
          if (c == ',') {
            ++i_;
            top = kCommaOrEndArr;
            stack.push_back(kValue);
          } else if (c == ']') {
            ++i_;
            stack.pop_back();
          } else {
            return Fail("expected ',' or ']' after a value in an array");
          }
          break;
        case kValue:
          stack.pop_back();
          if (c == '{') {
            ++i_;
            stack.push_back(kKeyOrEnd);
          } else if (c == '[') {
            ++i_;
            stack.push_back(kItemOrEnd);
          } else if (c == '"') {
            if (!String()) return err_;
          } else if (c == '-' || (c >= '0' && c <= '9')) {
            if (!Number()) return err_;
          } else if (!Word("true") && !Word("false") && !Word("null")) {
            if (c == ']' || c == '}') return Fail("expected a value (a trailing comma?)");
            return Fail("expected a value (a string, number, object, array, true, false or null)");
          }
          break;
      }
    }
  }

 private:
  void Space() {
    while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\t' || t_[i_] == '\n' || t_[i_] == '\r'))
      ++i_;
  }
  bool Word(std::string_view w) {
    if (t_.substr(i_, w.size()) != w) return false;
    i_ += w.size();
    return true;
  }
  bool String() {
    ++i_;  // the opening quote
    while (i_ < t_.size()) {
      const char c = t_[i_];
      if (c == '"') {
        ++i_;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) {
        Fail(c == '\n' ? "a string is not closed before the end of the line"
                       : "a control character inside a string");
        return false;
      }
      if (c == '\\') {
        ++i_;
        if (i_ >= t_.size()) break;
        const char e = t_[i_];
        if (e == 'u') {
          for (int k = 1; k <= 4; ++k)
            if (i_ + k >= t_.size() || !std::isxdigit(static_cast<unsigned char>(t_[i_ + k]))) {
              Fail("\\u must be followed by 4 hex digits");
              return false;
            }
          i_ += 4;
        } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
          Fail("an unknown escape in a string");
          return false;
        }
      }
      ++i_;
    }
    Fail("a string is not closed");
    return false;
  }
  bool Number() {
    auto digits = [&] {
      size_t s = i_;
      while (i_ < t_.size() && t_[i_] >= '0' && t_[i_] <= '9') ++i_;
      return i_ > s;
    };
    if (t_[i_] == '-') ++i_;
    if (i_ < t_.size() && t_[i_] == '0') {
      ++i_;
    } else if (!digits()) {
      Fail("a malformed number");
      return false;
    }
    if (i_ < t_.size() && t_[i_] == '.') {
      ++i_;
      if (!digits()) {
        Fail("a malformed number (digits must follow '.')");
        return false;
      }
    }
    if (i_ < t_.size() && (t_[i_] == 'e' || t_[i_] == 'E')) {
      ++i_;
      if (i_ < t_.size() && (t_[i_] == '+' || t_[i_] == '-')) ++i_;
      if (!digits()) {
        Fail("a malformed number (digits must follow the exponent)");
        return false;
      }
    }
    return true;
  }
  JsonSyntaxError Fail(std::string_view why) {
    err_ = {};
    err_.line = 1;
    size_t line_start = 0;
    for (size_t k = 0; k < i_ && k < t_.size(); ++k)
      if (t_[k] == '\n') {
        ++err_.line;
        line_start = k + 1;
      }
    err_.column = i_ - line_start + 1;
    err_.message = std::string(why);
    return err_;
  }

  std::string_view t_;
  size_t i_ = 0;
  JsonSyntaxError err_;
};

}  // namespace

JsonSyntaxError CheckJsonSyntax(std::string_view text) { return Checker(text).Run(); }

}  // namespace sluice
