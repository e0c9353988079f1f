// A compiled expression and how it is run (expressions.md). Two modes, as GlassFlow has:
// dynamic (how pipelines execute: unknown names read as nil, most type errors surface per
// record) and checked (validation: names and known types checked against a schema).
// A Program is immutable and may be run from any number of threads at once, each with
// its own Arena.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "expr/value.h"

namespace sluice::expr {

// Static types, for checking. kUnknown matches anything.
enum class Type : uint8_t {
  kUnknown,
  kNil,
  kBool,
  kInt,
  kFloat,
  kString,
  kArray,
  kMap,
  kTime,
  kDuration
};
std::string_view TypeName(Type t);

// The names an expression may read, resolved when it is compiled.
class Schema {
 public:
  virtual ~Schema() = default;
  // The slot of a top-level field and its type; -1 when there is no such field.
  virtual int Resolve(std::string_view name, Type* type) const = 0;
  // How often a field's value changes: 1 per resource, 2 per scope, 3 per record. Parts
  // of an expression that read only resource or scope fields are evaluated once per
  // envelope (see Record::Envelope).
  virtual int Level(int slot) const { return 3; }
};

// A remembered result of an envelope-level part of an expression.
struct MemoSlot {
  const void* program = nullptr;
  uint64_t envelope = 0;
  Value value;
};

// The record an expression reads, at run time.
class Record {
 public:
  virtual ~Record() = default;
  virtual Value Field(int slot, Arena& arena) const = 0;
  // $env: the whole record as a map.
  virtual Value All(Arena& arena) const = 0;
  // An id of the record's envelope at `level` (1: resource, 2: scope) that no other
  // envelope has while this record object lives, or 0 (nothing is remembered).
  virtual uint64_t Envelope(int level) const { return 0; }
  // Where the result of `node` of `program` is remembered (null: not remembered).
  virtual MemoSlot* Memo(const void* program, int node) { return nullptr; }
};

struct CompileOptions {
  const Schema* schema = nullptr;
  // Unknown names are errors and field types are checked (validation).
  bool checked = false;
  // GlassFlow's 24 helper functions are registered (stateless transforms; filters run
  // with expr's builtins only).
  bool helpers = false;
};

struct Compiled;

class Program {
 public:
  Program() = default;
  // InvalidArgument with expr's message, position and caret line.
  static StatusOr<Program> Compile(std::string_view src, const CompileOptions& options);

  // Evaluates against `record`, allocating in `arena` (the caller resets it per record;
  // the result lives until then). False on a run-time error, described in *error.
  bool Run(const Record& record, Arena& arena, Value* out, std::string* error) const;

  // The result type when known statically (kUnknown otherwise).
  Type result_type() const;
  const std::string& source() const;
  bool valid() const { return impl_ != nullptr; }
  // A bare field reference ("timestamp"): its slot, else -1.
  int bare_field() const;

 private:
  std::shared_ptr<const Compiled> impl_;
};

// Evaluates a compiled tree (eval.cc).
bool Evaluate(const Compiled& c, const Record& record, Arena& arena, Value* out,
              std::string* error);

}  // namespace sluice::expr
