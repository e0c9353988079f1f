// A record given as a JSON object (the evaluate endpoint's sample, test cases): its
// top-level keys are the fields, numbers are float64 as encoding/json decodes them.
// Not thread-safe; the values live in the arena given to Parse.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "expr/program.h"

namespace sluice::expr {

class JsonRecord : public Schema, public Record {
 public:
  // False (with *error) when `json` is not a JSON object.
  bool Parse(std::string_view json, Arena& arena, std::string* error);
  // A record from an already built map value.
  void Set(const Value& map);

  int Resolve(std::string_view name, Type* type) const override;
  Value Field(int slot, Arena& arena) const override;
  Value All(Arena& arena) const override { return map_; }

 private:
  Value map_;
};

// The static type of a value (checked mode).
Type TypeOf(const Value& v);

}  // namespace sluice::expr
