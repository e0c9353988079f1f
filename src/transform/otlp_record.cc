#include "transform/otlp_record.h"

#include <cstring>

#include "core/text.h"
#include "expr/ops.h"
#include "otlp/anyvalue.h"

namespace sluice::transform {

using expr::Arena;
using expr::Value;
using otlp::VKind;

namespace {

expr::Type TypeOfFlat(otlp::FlatType t) {
  switch (t) {
    case otlp::FlatType::kString: return expr::Type::kString;
    case otlp::FlatType::kUInt:
    case otlp::FlatType::kInt:
    case otlp::FlatType::kFloat: return expr::Type::kFloat;  // JSON numbers
    case otlp::FlatType::kBool: return expr::Type::kBool;
    case otlp::FlatType::kMap: return expr::Type::kMap;
    case otlp::FlatType::kArray: return expr::Type::kArray;
  }
  return expr::Type::kUnknown;
}

Value Text(const otlp::Value& v, Arena& arena) {
  std::string s;
  otlp::AppendValueText(v, &s);
  return expr::ArenaStr(arena, s);
}

}  // namespace

int OtlpSchema::Resolve(std::string_view name, expr::Type* type) const {
  const auto fields = otlp::FieldsOf(signal_);
  for (size_t k = 0; k < fields.size(); ++k)
    if (fields[k].name == name) {
      // Nullable fields may be null: their type is not known statically.
      *type = fields[k].nullable ? expr::Type::kUnknown : TypeOfFlat(fields[k].type);
      return static_cast<int>(k);
    }
  return -1;
}

int OtlpSchema::Level(int slot) const {
  switch (otlp::FieldsOf(signal_)[slot].id) {
    case otlp::FieldId::kResourceAttributes:
    case otlp::FieldId::kResourceSchemaUrl:
    case otlp::FieldId::kResourceDroppedAttributesCount: return 1;
    case otlp::FieldId::kScopeName:
    case otlp::FieldId::kScopeVersion:
    case otlp::FieldId::kScopeAttributes:
    case otlp::FieldId::kScopeSchemaUrl:
    case otlp::FieldId::kScopeDroppedAttributesCount: return 2;
    default: return 3;
  }
}

uint64_t OtlpRecord::Envelope(int level) const {
  if (epoch_ == 0 || !ctx_ || !ctx_->res || !ctx_->scope) return 0;
  const uint64_t res = ctx_->res->ordinal + 1, scope = ctx_->scope->ordinal + 1;
  // Unique while this object lives: 40 bits of requests, 12 of resources and scopes
  // (envelopes beyond those are simply not remembered).
  if (res >= (1u << 12) || scope >= (1u << 12) || epoch_ >= (1ull << 40)) return 0;
  return (epoch_ << 24) | (res << 12) | (level == 2 ? scope : 0);
}

expr::MemoSlot* OtlpRecord::Memo(const void*, int node) {
  if (node < 0 || node > 100000) return nullptr;
  if (memo_.size() <= static_cast<size_t>(node)) memo_.resize(node + 1);
  return &memo_[node];
}

Value ToExprValue(const otlp::Value& v, const otlp::FieldInfo* field, Arena& arena, bool* present) {
  if (present) *present = true;
  if (field && field->omit_empty &&
      (v.kind == VKind::kNull || (v.kind == VKind::kStr && v.s.empty()))) {
    if (present) *present = false;
    return Value::Nil();
  }
  switch (v.kind) {
    case VKind::kNull:
      if (field && !field->nullable && field->type == otlp::FlatType::kString)
        return Value::Str("");
      return Value::Nil();
    case VKind::kStr:
    case VKind::kEnum: return Value::Str(v.s);
    case VKind::kU64: return Value::Float(static_cast<double>(v.u));
    case VKind::kI64: return Value::Float(static_cast<double>(v.i));
    case VKind::kF64: return Value::Float(v.d);
    case VKind::kBool: return Value::Bool(v.b);
    case VKind::kAny: {
      std::string_view s;
      if (otlp::AsShortString(v.s, &s)) return Value::Str(s);
      const otlp::AnyValueView a = otlp::ParseAnyValue(v.s);
      if (a.kind == otlp::AnyValueView::kString) return Value::Str(a.bytes);
      return Text(v, arena);
    }
    case VKind::kAttrs: return Value::Attrs(v.rep.msg, v.rep.field);
    case VKind::kTime:
    case VKind::kId: return Text(v, arena);
    case VKind::kPackedU64:
    case VKind::kPackedF64: {
      expr::ArrayBuilder ab(arena);
      const bool dbl = v.kind == VKind::kPackedF64;
      v.packed.ForEach([&](uint64_t bits) {
        double d;
        if (dbl)
          std::memcpy(&d, &bits, 8);
        else
          d = static_cast<double>(bits);
        ab.Push(Value::Float(d));
      });
      return ab.Done();
    }
    case VKind::kStructs: {
      const auto members = otlp::MembersOf(v.element);
      expr::ArrayBuilder ab(arena);
      v.rep.ForEach([&](std::string_view e) {
        expr::Entry* en = arena.Make<expr::Entry>(members.size());
        size_t n = 0;
        for (size_t m = 0; m < members.size(); ++m) {
          const otlp::Value mv = otlp::ExtractMember(v.element, static_cast<int>(m), e);
          if (members[m].omit_empty &&
              (mv.kind == VKind::kNull || (mv.kind == VKind::kStr && mv.s.empty())))
            continue;
          en[n].key = members[m].name;
          en[n].value = ToExprValue(mv, nullptr, arena);
          ++n;
        }
        ab.Push(Value::Map(en, n));
      });
      return ab.Done();
    }
    case VKind::kList: {
      Value* items = arena.Make<Value>(v.list_size);
      for (size_t k = 0; k < v.list_size; ++k) items[k] = ToExprValue(v.list[k], nullptr, arena);
      if (!v.list_keys) return Value::Array({items, v.list_size});
      expr::Entry* en = arena.Make<expr::Entry>(v.list_size);
      for (size_t k = 0; k < v.list_size; ++k) en[k].key = v.list_keys[k], en[k].value = items[k];
      return Value::Map(en, v.list_size);
    }
  }
  return Value::Nil();
}

Value OtlpRecord::Field(int slot, Arena& arena) const {
  const otlp::FieldInfo& f = otlp::FieldsOf(signal_)[slot];
  return ToExprValue(otlp::Extract(f, *ctx_), &f, arena);
}

Value OtlpRecord::All(Arena& arena) const {
  const auto fields = otlp::FieldsOf(signal_);
  expr::Entry* en = arena.Make<expr::Entry>(fields.size());
  size_t n = 0;
  for (const otlp::FieldInfo& f : fields) {
    bool present;
    const Value v = ToExprValue(otlp::Extract(f, *ctx_), &f, arena, &present);
    if (!present) continue;
    en[n].key = f.name;
    en[n].value = v;
    ++n;
  }
  return Value::Map(en, n);
}

}  // namespace sluice::transform
