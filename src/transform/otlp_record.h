// The flattened OTLP record as the expression language sees it (GlassFlow's flattened
// JSON, decoded as encoding/json would): fields read lazily from the zero-copy views,
// numbers as float64, timestamps and ids as strings, attribute maps read in place.
// OtlpSchema is immutable; OtlpRecord is bound to one record at a time (one thread).
#pragma once

#include <vector>

#include "core/signal.h"
#include "expr/program.h"
#include "otlp/fields.h"

namespace sluice::transform {

class OtlpSchema : public expr::Schema {
 public:
  explicit OtlpSchema(Signal s) : signal_(s) {}
  int Resolve(std::string_view name, expr::Type* type) const override;
  int Level(int slot) const override;

 private:
  Signal signal_;
};

class OtlpRecord : public expr::Record {
 public:
  explicit OtlpRecord(Signal s) : signal_(s) {}
  void Bind(const otlp::RecordCtx* ctx) { ctx_ = ctx; }
  // Call before the records of each request: results remembered per resource or scope
  // (Envelope) stay within one request. Without it nothing is remembered.
  void NewRequest() { ++epoch_; }
  expr::Value Field(int slot, expr::Arena& arena) const override;
  expr::Value All(expr::Arena& arena) const override;
  uint64_t Envelope(int level) const override;
  expr::MemoSlot* Memo(const void* program, int node) override;

 private:
  Signal signal_;
  const otlp::RecordCtx* ctx_ = nullptr;
  uint64_t epoch_ = 0;
  std::vector<expr::MemoSlot> memo_;  // by node id (programs told apart by MemoSlot::program)
};

// A flattened value as the expression language's value; `field` gives the flattening
// rules (nullable, omitted when empty). `present` is false when GlassFlow's JSON would
// leave the key out.
expr::Value ToExprValue(const otlp::Value& v, const otlp::FieldInfo* field, expr::Arena& arena,
                        bool* present = nullptr);

}  // namespace sluice::transform
