#include "transform/transforms.h"

#include "core/cat.h"
#include "expr/ops.h"
#include "transform/output.h"

namespace sluice::transform {

std::string TransformField(int index, std::string_view field) {
  return Cat("transforms[", index, "].config.", field);
}

StatusOr<std::shared_ptr<const Transforms>> Transforms::Compile(Signal s,
                                                                const TransformSpec& spec) {
  std::shared_ptr<Transforms> t(new Transforms(s, spec));
  const OtlpSchema schema(s);
  // Checked first (what pipeline creation refuses), then compiled for running in expr's
  // dynamic mode, as GlassFlow runs them.
  expr::Type type = expr::Type::kUnknown;  // the checked result type of the last compiled
  auto compile = [&](const std::string& src, bool helpers, std::string_view where,
                     expr::Program* out) -> Status {
    expr::CompileOptions checked{&schema, true, helpers};
    auto c = expr::Program::Compile(src, checked);
    if (!c.ok()) return absl::InvalidArgumentError(Cat(where, ": ", c.status().message()));
    expr::CompileOptions dynamic{&schema, false, helpers};
    auto d = expr::Program::Compile(src, dynamic);
    if (!d.ok()) return absl::InvalidArgumentError(Cat(where, ": ", d.status().message()));
    *out = std::move(*d);
    type = c->result_type();
    return absl::OkStatus();
  };
  if (spec.filter) {
    const std::string where = TransformField(spec.filter_index, "expression");
    if (spec.filter_expression.find_first_not_of(" \t\r\n") == std::string::npos)
      return absl::InvalidArgumentError(Cat(where, ": empty expression"));
    if (Status st = compile(spec.filter_expression, false, where, &t->filter_); !st.ok()) return st;
    if (type != expr::Type::kUnknown && type != expr::Type::kBool)
      return absl::InvalidArgumentError(Cat(where, ": the filter must evaluate to a bool; '",
                                            spec.filter_expression, "' gives ",
                                            expr::TypeName(type)));
  }
  if (spec.dedup) {
    auto k = DedupKey::Parse(s, spec.dedup_key);
    if (!k.ok())
      return absl::InvalidArgumentError(
          Cat(TransformField(spec.dedup_index, "key"), ": ", k.status().message()));
    t->key_ = std::move(*k);
  }
  if (spec.stateless) {
    const auto fields = otlp::FieldsOf(s);
    for (size_t i = 0; i < spec.outputs.size(); ++i) {
      const StatelessOutput& o = spec.outputs[i];
      const std::string where =
          Cat(TransformField(spec.stateless_index, "transforms"), "[", i, "]");
      Output out;
      if (Status st = compile(o.expression, true, Cat(where, ".expression"), &out.program);
          !st.ok())
        return st;
      out.type = o.output_type;
      // `timestamp` mapped as a string: the record's own value (its nanoseconds kept for
      // time columns, which the RFC 3339 text would give too).
      if (const int slot = out.program.bare_field(); slot >= 0) {
        const otlp::FieldInfo& f = fields[slot];
        if (!ConvertingType(o.output_type) ||
            (o.output_type == "string" && f.type == otlp::FlatType::kString))
          out.direct = &f;
      }
      otlp::FieldInfo fi;
      fi.name = otlp::InternName(o.output_name);
      fi.id = otlp::FieldId::kOutput;
      fi.type = OutputFlatType(o.output_type);
      fi.nullable = true;
      if (out.direct && !ConvertingType(o.output_type)) {
        // Passed through as the record has it: an array of events still fills Nested
        // columns, a map Map columns.
        fi.type = out.direct->type;
        fi.element = out.direct->element;
      }
      // A repeated name: the last one wins, as in the output record.
      out.slot = t->output_fields_.size();
      for (size_t k = 0; k < t->output_fields_.size(); ++k)
        if (t->output_fields_[k].name == fi.name) t->output_fields_[k] = fi, out.slot = k;
      if (out.slot == t->output_fields_.size()) t->output_fields_.push_back(fi);
      t->outputs_.push_back(std::move(out));
    }
  }
  return std::shared_ptr<const Transforms>(std::move(t));
}

Transforms::Verdict Transforms::Filter(const otlp::RecordCtx& ctx, Scratch& s) const {
  s.arena.Reset();
  s.record.Bind(&ctx);
  expr::Value v;
  if (!filter_.Run(s.record, s.arena, &v, &s.why)) {
    s.why = Cat("filter evaluation error: evaluating expression: ", s.why);
    return Verdict::kDeadLetter;
  }
  if (v.kind != expr::Kind::kBool) {
    std::string shown;
    expr::AppendGoV(v, &shown);
    s.why = Cat("invalid expression: the filter gave ", expr::GoTypeName(v), " ", shown,
                ", not a bool");
    return Verdict::kDeadLetter;
  }
  return v.b ? Verdict::kKeep : Verdict::kDrop;
}

bool Transforms::Key(const otlp::RecordCtx& ctx, Scratch& s, Key128* out) const {
  key_->Text(ctx, &s.key);
  if (s.key.empty()) return false;
  *out = HashKey(s.key);
  return true;
}

bool Transforms::Stateless(const otlp::RecordCtx& ctx, Scratch& s) const {
  s.arena.Reset();
  s.record.Bind(&ctx);
  s.outputs.assign(output_fields_.size(), otlp::Value{});
  for (size_t i = 0; i < outputs_.size(); ++i) {
    const Output& o = outputs_[i];
    const size_t slot = o.slot;
    if (o.direct) {
      s.outputs[slot] = otlp::Extract(*o.direct, ctx);
      continue;
    }
    expr::Value v, converted;
    if (!o.program.Run(s.record, s.arena, &v, &s.why)) {
      s.why = Cat("run transformation ", i, ": ", s.why);
      return false;
    }
    if (!ConvertOutput(v, o.type, s.arena, &converted, &s.why) ||
        !ToOtlpValue(converted, s.arena, &s.outputs[slot], &s.why)) {
      s.why = Cat("convert result for column ", spec_.outputs[i].output_name, ": ", s.why);
      return false;
    }
  }
  return true;
}

}  // namespace sluice::transform
