// Zero-copy views over OTLP protobuf records and the loops that visit them.
// Every view points into the request bytes, which must outlive it. The loops assume a
// request that passed Validate (and Canonicalize when it asked for it); on malformed
// bytes they stop early rather than read out of bounds. Nothing here allocates.
#pragma once

#include <cstdint>
#include <string_view>

#include "otlp/wire.h"

namespace sluice::otlp {

// Every LEN occurrence of `field` inside message `msg`, in order.
struct Repeated {
  std::string_view msg;
  uint32_t field = 0;

  template <class Fn>
  void ForEach(Fn&& fn) const {
    WireReader r(msg);
    while (r.Next()) {
      if (r.field() == field && r.wire_type() == kLen) {
        fn(r.Len());
      } else {
        r.Skip();
      }
    }
  }
  size_t Count() const {
    size_t n = 0;
    ForEach([&](std::string_view) { ++n; });
    return n;
  }
};

// A repeated numeric field accepted packed or unpacked: fixed64 / double (8-byte
// elements, unpacked wire type I64) or uint64 varints (unpacked wire type VARINT).
struct Packed {
  std::string_view msg;
  uint32_t field = 0;
  bool varint = false;

  // fn(uint64_t bits): the raw 64 bits (a double's bit pattern for doubles).
  template <class Fn>
  void ForEach(Fn&& fn) const {
    WireReader r(msg);
    while (r.Next()) {
      if (r.field() != field) {
        r.Skip();
      } else if (r.wire_type() == kLen) {
        WireReader p(r.Len());
        while (!p.at_end() && p.ok()) fn(varint ? p.Varint() : p.Fixed64());
      } else if (!varint && r.wire_type() == kI64) {
        fn(r.Fixed64());
      } else if (varint && r.wire_type() == kVarint) {
        fn(r.Varint());
      } else {
        r.Skip();
      }
    }
  }
  size_t Count() const {
    size_t n = 0;
    ForEach([&](uint64_t) { ++n; });
    return n;
  }
};

struct ResourceView {
  Repeated attributes;
  uint32_t dropped_attributes_count = 0;
  std::string_view schema_url;  // from the enclosing Resource{Logs,Spans,Metrics}
  uint32_t ordinal = 0;         // which resource of the request (set by ForEachScope)
};

struct ScopeView {
  std::string_view name, version;
  Repeated attributes;
  uint32_t dropped_attributes_count = 0;
  std::string_view schema_url;  // from the enclosing Scope{Logs,Spans,Metrics}
  uint32_t ordinal = 0;         // which scope of the request, counted across resources
};

struct LogView {
  uint64_t time = 0, observed_time = 0;
  int32_t severity_number = 0;
  std::string_view severity_text;
  std::string_view body;  // AnyValue bytes; empty when absent
  bool has_body = false;
  Repeated attributes;
  uint32_t dropped_attributes_count = 0;
  uint32_t flags = 0;
  std::string_view trace_id, span_id, event_name;
};

struct SpanView {
  std::string_view trace_id, span_id, trace_state, parent_span_id, name;
  int32_t kind = 0;
  uint64_t start_time = 0, end_time = 0;
  Repeated attributes, events, links;
  uint32_t dropped_attributes_count = 0, dropped_events_count = 0, dropped_links_count = 0;
  std::string_view status_message;
  int32_t status_code = 0;
  uint32_t flags = 0;
};

enum class MetricKind : uint8_t { kNone, kGauge, kSum, kHistogram, kExpHistogram, kSummary };

struct MetricView {
  std::string_view name, description, unit;
  MetricKind kind = MetricKind::kNone;
  std::string_view data;  // the Gauge/Sum/... message
  int32_t temporality = 0;
  bool is_monotonic = false;
};

struct BucketsView {
  int32_t offset = 0;
  Packed counts;
};

// One data point of any kind; fields absent for a kind stay at their defaults.
struct PointView {
  uint64_t start_time = 0, time = 0;
  Repeated attributes, exemplars, quantiles;
  uint32_t flags = 0;
  // number points
  bool has_double = false, has_int = false;
  double as_double = 0;
  int64_t as_int = 0;
  // histogram, exponential histogram, summary
  uint64_t count = 0;
  bool has_sum = false, has_min = false, has_max = false;
  double sum = 0, min = 0, max = 0;
  Packed bucket_counts, explicit_bounds;
  int32_t scale = 0;
  uint64_t zero_count = 0;
  double zero_threshold = 0;
  BucketsView positive, negative;
};

struct EventView {
  uint64_t time = 0;
  std::string_view name;
  Repeated attributes;
  uint32_t dropped_attributes_count = 0;
};

struct LinkView {
  std::string_view trace_id, span_id, trace_state;
  Repeated attributes;
  uint32_t dropped_attributes_count = 0;
  uint32_t flags = 0;
};

struct QuantileView {
  double quantile = 0, value = 0;
};

struct ExemplarView {
  uint64_t time = 0;
  bool has_double = false, has_int = false;
  double as_double = 0;
  int64_t as_int = 0;
  std::string_view span_id, trace_id;
  Repeated filtered_attributes;
};

ResourceView ParseResource(std::string_view resource, std::string_view schema_url);
ScopeView ParseScope(std::string_view scope, std::string_view schema_url);
LogView ParseLog(std::string_view record);
SpanView ParseSpan(std::string_view span);
MetricView ParseMetric(std::string_view metric);
PointView ParsePoint(MetricKind kind, std::string_view point);
EventView ParseEvent(std::string_view event);
LinkView ParseLink(std::string_view link);
QuantileView ParseQuantile(std::string_view q);
ExemplarView ParseExemplar(std::string_view e);

// Splits a Resource{Logs,Spans,Metrics} or Scope{...} message (same layout for all three
// signals: 1 = resource/scope, 2 = items, 3 = schema_url).
struct Envelope {
  std::string_view head;  // the Resource or InstrumentationScope message
  std::string_view schema_url;
  Repeated items;
};
Envelope ParseEnvelope(std::string_view msg);

// Visits every scope envelope of a request (the layout is the same for the three signals):
// fn(const ResourceView&, const ScopeView&, const Repeated& items). The views carry their
// ordinal in the request, so a caller can tell when the resource or scope changes.
template <class Fn>
void ForEachScope(std::string_view request, Fn&& fn) {
  uint32_t resources = 0, scopes = 0;
  Repeated{request, 1}.ForEach([&](std::string_view r) {
    Envelope re = ParseEnvelope(r);
    ResourceView res = ParseResource(re.head, re.schema_url);
    res.ordinal = resources++;
    re.items.ForEach([&](std::string_view s) {
      Envelope se = ParseEnvelope(s);
      ScopeView scope = ParseScope(se.head, se.schema_url);
      scope.ordinal = scopes++;
      fn(res, scope, se.items);
    });
  });
}

// Visits every delivered log record: fn(const ResourceView&, const ScopeView&, const LogView&).
template <class Fn>
void ForEachLog(std::string_view request, Fn&& fn) {
  ForEachScope(request,
               [&](const ResourceView& res, const ScopeView& scope, const Repeated& items) {
                 items.ForEach([&](std::string_view rec) { fn(res, scope, ParseLog(rec)); });
               });
}

// Visits every delivered span (invalid spans, see CheckSpan, are skipped).
template <class Fn>
void ForEachSpan(std::string_view request, Fn&& fn);

// Visits every delivered data point: fn(res, scope, const MetricView&, const PointView&).
template <class Fn>
void ForEachPoint(std::string_view request, Fn&& fn);

}  // namespace sluice::otlp

#include "otlp/views_inl.h"
