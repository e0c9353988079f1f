// A stateless transform's output: GlassFlow's output_type conversion (spf13/cast, as its
// convertType applies it) and the converted value handed to the column encoders.
// Pure functions; results live in the caller's arena.
#pragma once

#include <string>
#include <string_view>

#include "expr/value.h"
#include "otlp/fields.h"

namespace sluice::transform {

// Converts per output_type: string, int, int64, float64, bool convert; []string and any
// other type pass the value through. False (with *error, cast's wording) when it cannot.
bool ConvertOutput(const expr::Value& in, std::string_view output_type, expr::Arena& arena,
                   expr::Value* out, std::string* error);

// The value as the encoders take it. False where GlassFlow's JSON encoding of the output
// record fails (NaN or infinite numbers, maps whose keys are not strings).
bool ToOtlpValue(const expr::Value& v, expr::Arena& arena, otlp::Value* out, std::string* error,
                 int depth = 0);

// The flattened type an output declares (for checking the mapping against columns).
otlp::FlatType OutputFlatType(std::string_view output_type);

// Whether output_type converts (the others pass the value through).
bool ConvertingType(std::string_view output_type);

}  // namespace sluice::transform
