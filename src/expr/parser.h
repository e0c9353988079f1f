// Parses expr-lang source into a syntax tree (expressions.md §1.3-1.4): precedence
// climbing with expr's table, comparison chaining, negated word operators, the `??`
// mixing rule, pipes, ternary / elvis, let and if, predicates with `#`, literals.
// Names are left unresolved (see compile.h). Pure; thread-safe.
#pragma once

#include <string_view>
#include <vector>

#include "core/status.h"
#include "expr/ast.h"

namespace sluice::expr {

struct Tree {
  std::vector<Node> nodes;
  int root = -1;
};

// At most this many nodes (expr's limit), and this deep (stack safety).
inline constexpr size_t kMaxNodes = 10000;
inline constexpr int kMaxDepth = 200;

// Errors are InvalidArgument, already formatted with line:col and the caret line.
StatusOr<Tree> Parse(std::string_view src);

// Whether `name` takes a predicate as its second argument.
bool IsPredicateBuiltin(std::string_view name);

}  // namespace sluice::expr
