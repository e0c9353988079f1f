// Operations on values shared by the evaluator and the builtins: Go's type names for
// errors, equality, ordering, lazy OTLP attribute maps, and Go's text forms of values
// (fmt's %v, spf13/cast's ToString, encoding/json). Pure; thread-compatible (arenas).
#pragma once

#include <string>
#include <string_view>

#include "expr/value.h"

namespace sluice::expr {

// Go's name of the value's dynamic type, as expr's runtime errors print it.
std::string_view GoTypeName(const Value& v);

// expr's == (never an error): numbers by value across int and float, arrays element-wise
// with the same rules, maps by Go deep equality (type-strict), different kinds false.
bool Equal(const Value& a, const Value& b);

// expr's < for numbers, strings, times and durations: -1, 0, 1; false when the pair is
// not ordered (the caller reports the error).
bool Compare(const Value& a, const Value& b, int* out);

// A string-keyed map from entries that may repeat a key: the first (or, with last_wins,
// the last) value of each key kept, in first-seen order, indexed when large. Linear.
Value MakeMap(Entry* e, size_t n, Arena& arena, bool last_wins);
// A hash of a value consistent with Equal (1 and 1.0 hash alike).
uint64_t ValueHash(const Value& v);

// Map look-up (kMap and kAttrs). False when the key is absent.
bool MapGet(const Value& m, std::string_view key, Arena& arena, Value* out);
// A kAttrs value as a kMap (attribute values as their text, last duplicate wins).
Value MaterializeMap(const Value& m, Arena& arena);
size_t MapSize(const Value& m);

// Go fmt "%v" (expr's string()).
void AppendGoV(const Value& v, std::string* out);
// spf13/cast ToStringE: false for arrays and maps (the value cannot be cast).
bool AppendCastString(const Value& v, std::string* out);
// cast.ToString (errors swallowed: "").
std::string_view CastString(const Value& v, Arena& arena);
// encoding/json: keys sorted, <>& escaped; false (with *error) for NaN/Inf and maps whose
// keys are not strings. `indent` pretty-prints with two spaces (expr's toJSON).
bool AppendJson(const Value& v, std::string* out, std::string* error, bool indent = false,
                int depth = 0);

// Float formatting as Go's strconv: 'f' shortest, 'e' shortest, 'g' shortest (%v).
void AppendFloatF(double d, std::string* out);
void AppendFloatE(double d, std::string* out);
void AppendFloatG(double d, std::string* out);

// A string in the arena from a std::string.
inline Value ArenaStr(Arena& a, std::string_view s) { return Value::Str(a.Copy(s)); }

}  // namespace sluice::expr
