// Text formatting shared by the flattener, the encoders and the status bodies.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sluice {

// Appends `s` as a JSON string literal (quotes included). Bytes that are not UTF-8 become
// U+FFFD, so the output is always valid JSON.
void AppendJsonString(std::string_view s, std::string* out);

// Shortest decimal that round-trips, in fixed notation (no exponent), like Go's
// strconv.FormatFloat(v, 'f', -1, 64); NaN, +Inf and -Inf as "NaN", "+Inf", "-Inf".
void AppendDouble(double v, std::string* out);

void AppendUInt(uint64_t v, std::string* out);

// Appends the code point (at most U+10FFFF) as UTF-8.
void AppendUtf8(uint32_t code_point, std::string* out);
void AppendInt(int64_t v, std::string* out);

// Unix nanoseconds as RFC 3339 in UTC with the fraction's trailing zeros trimmed:
// 2024-01-15T10:50:00.123456789Z; 0 gives 1970-01-01T00:00:00Z.
void AppendRfc3339Nano(uint64_t unix_nanos, std::string* out);

// Days since 1970-01-01 to civil date, and back (proleptic Gregorian).
void CivilFromDays(int64_t days, int64_t* y, unsigned* m, unsigned* d);
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);

// Parses RFC 3339 / ISO 8601 date-times ("2024-01-15T10:50:00.123Z", "+02:00" offsets,
// "2024-01-15 10:50:00", "2024-01-15") into Unix nanoseconds. Returns false on error.
bool ParseDateTime(std::string_view s, int64_t* unix_nanos);

}  // namespace sluice
