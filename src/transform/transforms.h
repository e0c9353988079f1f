// A pipeline's transforms compiled for its signal: the filter (keep when true), the dedup
// key and the stateless outputs, applied per record straight on the decoded OTLP views
// (no flattened record is built). Immutable and shareable; the per-record state is in a
// Scratch owned by the calling thread.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/signal.h"
#include "core/status.h"
#include "expr/program.h"
#include "otlp/fields.h"
#include "transform/dedup_index.h"
#include "transform/dedup_key.h"
#include "transform/otlp_record.h"
#include "transform/spec.h"

namespace sluice::transform {

class Transforms {
 public:
  // Compiles and checks the transforms against the signal's flattened schema: unknown
  // fields, known type errors and syntax errors are InvalidArgument naming the transform
  // ("transforms[1].config.expression: ...") with expr's position and caret line.
  static StatusOr<std::shared_ptr<const Transforms>> Compile(Signal s, const TransformSpec& spec);

  const TransformSpec& spec() const { return spec_; }
  bool filters() const { return spec_.filter; }
  bool dedups() const { return spec_.dedup; }
  bool stateless() const { return spec_.stateless; }
  // The stateless outputs as fields the sink's mapping names (empty without stateless).
  std::span<const otlp::FieldInfo> outputs() const { return output_fields_; }

  struct Scratch {
    explicit Scratch(Signal s) : record(s) {}
    expr::Arena arena;
    OtlpRecord record;
    std::string key;
    std::string why;
    std::vector<otlp::Value> outputs;
  };

  enum class Verdict { kKeep, kDrop, kDeadLetter };
  // kDeadLetter: the expression failed or gave no bool (s.why says which).
  Verdict Filter(const otlp::RecordCtx& ctx, Scratch& s) const;
  // The record's dedup key; false when it has none (the record is kept).
  bool Key(const otlp::RecordCtx& ctx, Scratch& s, Key128* out) const;
  // Evaluates the outputs into s.outputs (valid until the next call). False with s.why.
  bool Stateless(const otlp::RecordCtx& ctx, Scratch& s) const;

 private:
  Transforms(Signal s, TransformSpec spec) : signal_(s), spec_(std::move(spec)) {}

  struct Output {
    expr::Program program;
    std::string type;
    // A bare field whose value needs no conversion: taken as the record has it.
    const otlp::FieldInfo* direct = nullptr;
    size_t slot = 0;  // in output_fields_
  };

  Signal signal_;
  TransformSpec spec_;
  expr::Program filter_;
  std::optional<DedupKey> key_;
  std::vector<Output> outputs_;
  std::vector<otlp::FieldInfo> output_fields_;
};

// "transforms[i].config.expression" style path of a transform's field.
std::string TransformField(int index, std::string_view field);

}  // namespace sluice::transform
