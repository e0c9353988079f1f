#include "expr/json_record.h"

#include "expr/compiled.h"

namespace sluice::expr {

Type TypeOf(const Value& v) {
  switch (v.kind) {
    case Kind::kNil: return Type::kUnknown;  // a null field may hold anything
    case Kind::kBool: return Type::kBool;
    case Kind::kInt:
    case Kind::kByte: return Type::kInt;
    case Kind::kFloat: return Type::kFloat;
    case Kind::kString: return Type::kString;
    case Kind::kArray: return Type::kArray;
    case Kind::kMap:
    case Kind::kAttrs:
    case Kind::kAnyMap: return Type::kMap;
    case Kind::kTime: return Type::kTime;
    case Kind::kDuration: return Type::kDuration;
  }
  return Type::kUnknown;
}

bool JsonRecord::Parse(std::string_view json, Arena& arena, std::string* error) {
  Value v;
  if (!ParseJsonValue(json, arena, &v, error)) return false;
  if (v.kind != Kind::kMap) {
    *error = "the record must be a JSON object";
    return false;
  }
  map_ = v;
  return true;
}

void JsonRecord::Set(const Value& map) { map_ = map; }

int JsonRecord::Resolve(std::string_view name, Type* type) const {
  for (size_t k = 0; k < map_.n; ++k)
    if (map_.entries[k].key == name) {
      *type = TypeOf(map_.entries[k].value);
      return static_cast<int>(k);
    }
  return -1;
}

Value JsonRecord::Field(int slot, Arena&) const { return map_.entries[slot].value; }

}  // namespace sluice::expr
