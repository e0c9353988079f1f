// OTLP/JSON ("JSON Protobuf Encoding") to protobuf bytes. Requests arriving as JSON are
// transcoded once, so everything downstream sees one format. Follows the OTLP rules: keys
// in lowerCamelCase (snake_case accepted), trace/span ids in hex, enums as integers (known
// names accepted), 64-bit integers as strings or numbers, unknown keys ignored, null as
// absent. Thread-safe: each call uses its own parser state.
#pragma once

#include <string>
#include <string_view>

#include "core/signal.h"
#include "core/status.h"

namespace sluice::otlp {

// Appends the protobuf encoding of the Export*ServiceRequest in `json` to `out`.
// Returns InvalidArgument naming the offending key on malformed or mistyped input.
// Linear in the input whatever its nesting (up to kMaxDepth messages).
Status JsonToProto(Signal signal, std::string_view json, std::string* out);

// Rewrites escaped UTF-16 surrogates that are not part of a pair as the escape of U+FFFD
// (what Go's decoders read them as), in place. Returns whether anything changed.
bool ReplaceLoneSurrogates(std::string* json);

}  // namespace sluice::otlp
