// One record of an OTLP request as a request of its own: the record (a log record, a
// span, or a metric data point inside its metric) with its resource and scope, every other
// field of the envelopes kept. Dead letters carry it, so that they can be sent through the
// pipeline again once the table is fixed. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/signal.h"

namespace sluice::otlp {

// The record numbered `index` as ForEachRecord counts them (delivered records only).
// Empty when the request holds fewer records.
std::string ExtractRecord(Signal s, std::string_view request, uint32_t index);

}  // namespace sluice::otlp
