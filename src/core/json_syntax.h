// Finds the first JSON syntax error in a document and says where it is (line and column,
// from 1) and what was expected, in plain words: for messages about configuration files.
// Iterative (any nesting depth) and linear. Thread-safe (pure).
#pragma once

#include <string>
#include <string_view>

namespace sluice {

struct JsonSyntaxError {
  size_t line = 0, column = 0;  // 0: no error
  std::string message;
};

// An error with line 0 when `text` is one valid JSON value (RFC 8259).
JsonSyntaxError CheckJsonSyntax(std::string_view text);

}  // namespace sluice
