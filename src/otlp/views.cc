#include "otlp/views.h"

#include <algorithm>
#include <cstring>

namespace sluice::otlp {
namespace {

inline double BitsToDouble(uint64_t b) {
  double d;
  std::memcpy(&d, &b, 8);
  return d;
}

// Field readers that ignore a field whose wire type does not match (protobuf treats it
// as an unknown field).
#define SLUICE_LEN(dst)        \
  if (r.wire_type() == kLen) { \
    dst = r.Len();             \
  } else {                     \
    r.Skip();                  \
  }
#define SLUICE_VARINT(dst, T)         \
  if (r.wire_type() == kVarint) {     \
    dst = static_cast<T>(r.Varint()); \
  } else {                            \
    r.Skip();                         \
  }
#define SLUICE_F64(dst)        \
  if (r.wire_type() == kI64) { \
    dst = r.Fixed64();         \
  } else {                     \
    r.Skip();                  \
  }
#define SLUICE_F32(dst)        \
  if (r.wire_type() == kI32) { \
    dst = r.Fixed32();         \
  } else {                     \
    r.Skip();                  \
  }

}  // namespace

Envelope ParseEnvelope(std::string_view msg) {
  Envelope e;
  e.items = Repeated{msg, 2};
  WireReader r(msg);
  // This walk hops from record to record by their lengths, each hop waiting on the memory
  // the last one read: stream the bytes ahead into the cache (the records are read in full
  // right after, so nothing is fetched in vain).
  constexpr size_t kAhead = 4096;
  const char* fetched = msg.data();
  const char* const end = msg.data() + msg.size();
  while (r.Next()) {
    for (const char* want = std::min(r.pos() + kAhead, end); fetched < want; fetched += 64)
      __builtin_prefetch(fetched);
    switch (r.field()) {
      case 1: SLUICE_LEN(e.head); break;
      case 3: SLUICE_LEN(e.schema_url); break;
      default: r.Skip();
    }
  }
  return e;
}

ResourceView ParseResource(std::string_view resource, std::string_view schema_url) {
  ResourceView v;
  v.attributes = Repeated{resource, 1};
  v.schema_url = schema_url;
  WireReader r(resource);
  while (r.Next()) {
    if (r.field() == 2) {
      SLUICE_VARINT(v.dropped_attributes_count, uint32_t);
    } else {
      r.Skip();
    }
  }
  return v;
}

ScopeView ParseScope(std::string_view scope, std::string_view schema_url) {
  ScopeView v;
  v.attributes = Repeated{scope, 3};
  v.schema_url = schema_url;
  WireReader r(scope);
  while (r.Next()) {
    switch (r.field()) {
      case 1: SLUICE_LEN(v.name); break;
      case 2: SLUICE_LEN(v.version); break;
      case 4: SLUICE_VARINT(v.dropped_attributes_count, uint32_t); break;
      default: r.Skip();
    }
  }
  return v;
}

LogView ParseLog(std::string_view rec) {
  LogView v;
  // The attributes' list is narrowed to the bytes from the first attribute to the end of
  // the last: the map columns walk it once or twice per record, and need not skip the
  // body and ids again.
  const char* attrs_begin = nullptr;
  const char* attrs_end = nullptr;
  WireReader r(rec);
  const char* field_start = r.pos();
  bool more = r.Next();
  const auto at = [&](uint32_t field, uint32_t wt) {
    return more && r.field() == field && r.wire_type() == wt;
  };
  const auto next = [&] {
    field_start = r.pos();
    more = r.Next();
  };
  // Serializers write the fields in ascending order: read them in that order with
  // straight-line code (a switch per field costs a hard-to-predict indirect jump), then
  // let the general loop below take whatever is left (other orders, repeats, unknowns).
  if (at(1, kI64)) v.time = r.Fixed64(), next();
  if (at(2, kVarint)) v.severity_number = static_cast<int32_t>(r.Varint()), next();
  if (at(3, kLen)) v.severity_text = r.Len(), next();
  if (at(5, kLen)) v.body = r.Len(), v.has_body = true, next();
  if (at(6, kLen)) {
    attrs_begin = field_start;
    do {
      r.Len();
      attrs_end = r.pos();
      next();
    } while (at(6, kLen));
  }
  if (at(7, kVarint)) v.dropped_attributes_count = static_cast<uint32_t>(r.Varint()), next();
  if (at(8, kI32)) v.flags = r.Fixed32(), next();
  if (at(9, kLen)) v.trace_id = r.Len(), next();
  if (at(10, kLen)) v.span_id = r.Len(), next();
  if (at(11, kI64)) v.observed_time = r.Fixed64(), next();
  if (at(12, kLen)) v.event_name = r.Len(), next();
  for (; more; next()) {
    switch (r.field()) {
      case 1: SLUICE_F64(v.time); break;
      case 2: SLUICE_VARINT(v.severity_number, int32_t); break;
      case 3: SLUICE_LEN(v.severity_text); break;
      case 5:
        if (r.wire_type() == kLen) {
          v.body = r.Len();
          v.has_body = true;
        } else {
          r.Skip();
        }
        break;
      case 6:
        if (r.wire_type() == kLen) {
          if (attrs_begin == nullptr) attrs_begin = field_start;
          r.Len();
          attrs_end = r.pos();
        } else {
          r.Skip();
        }
        break;
      case 7: SLUICE_VARINT(v.dropped_attributes_count, uint32_t); break;
      case 8: SLUICE_F32(v.flags); break;
      case 9: SLUICE_LEN(v.trace_id); break;
      case 10: SLUICE_LEN(v.span_id); break;
      case 11: SLUICE_F64(v.observed_time); break;
      case 12: SLUICE_LEN(v.event_name); break;
      default: r.Skip();
    }
  }
  v.attributes = Repeated{
      attrs_begin ? std::string_view(attrs_begin, attrs_end - attrs_begin) : std::string_view(), 6};
  return v;
}

SpanView ParseSpan(std::string_view span) {
  SpanView v;
  v.attributes = Repeated{span, 9};
  v.events = Repeated{span, 11};
  v.links = Repeated{span, 13};
  WireReader r(span);
  while (r.Next()) {
    switch (r.field()) {
      case 1: SLUICE_LEN(v.trace_id); break;
      case 2: SLUICE_LEN(v.span_id); break;
      case 3: SLUICE_LEN(v.trace_state); break;
      case 4: SLUICE_LEN(v.parent_span_id); break;
      case 5: SLUICE_LEN(v.name); break;
      case 6: SLUICE_VARINT(v.kind, int32_t); break;
      case 7: SLUICE_F64(v.start_time); break;
      case 8: SLUICE_F64(v.end_time); break;
      case 10: SLUICE_VARINT(v.dropped_attributes_count, uint32_t); break;
      case 12: SLUICE_VARINT(v.dropped_events_count, uint32_t); break;
      case 14: SLUICE_VARINT(v.dropped_links_count, uint32_t); break;
      case 15:
        if (r.wire_type() == kLen) {
          // Status: 2 message, 3 code. A repeated status merges; last value wins.
          WireReader s(r.Len());
          while (s.Next()) {
            if (s.field() == 2 && s.wire_type() == kLen) {
              v.status_message = s.Len();
            } else if (s.field() == 3 && s.wire_type() == kVarint) {
              v.status_code = static_cast<int32_t>(s.Varint());
            } else {
              s.Skip();
            }
          }
        } else {
          r.Skip();
        }
        break;
      case 16: SLUICE_F32(v.flags); break;
      default: r.Skip();
    }
  }
  return v;
}

MetricView ParseMetric(std::string_view metric) {
  MetricView v;
  WireReader r(metric);
  while (r.Next()) {
    uint32_t f = r.field();
    switch (f) {
      case 1: SLUICE_LEN(v.name); break;
      case 2: SLUICE_LEN(v.description); break;
      case 3: SLUICE_LEN(v.unit); break;
      case 5:
      case 7:
      case 9:
      case 10:
      case 11:
        if (r.wire_type() == kLen) {
          v.data = r.Len();
          v.kind = f == 5    ? MetricKind::kGauge
                   : f == 7  ? MetricKind::kSum
                   : f == 9  ? MetricKind::kHistogram
                   : f == 10 ? MetricKind::kExpHistogram
                             : MetricKind::kSummary;
        } else {
          r.Skip();
        }
        break;
      default: r.Skip();
    }
  }
  if (v.kind == MetricKind::kSum || v.kind == MetricKind::kHistogram ||
      v.kind == MetricKind::kExpHistogram) {
    WireReader d(v.data);
    while (d.Next()) {
      if (d.field() == 2 && d.wire_type() == kVarint) {
        v.temporality = static_cast<int32_t>(d.Varint());
      } else if (d.field() == 3 && d.wire_type() == kVarint && v.kind == MetricKind::kSum) {
        v.is_monotonic = d.Varint() != 0;
      } else {
        d.Skip();
      }
    }
  }
  return v;
}

namespace {

BucketsView ParseBuckets(std::string_view b) {
  BucketsView v;
  v.counts = Packed{b, 2, true};
  WireReader r(b);
  while (r.Next()) {
    if (r.field() == 1 && r.wire_type() == kVarint) {
      v.offset = ZigZag32(r.Varint());
    } else {
      r.Skip();
    }
  }
  return v;
}

void ParseNumberPoint(std::string_view p, PointView* v) {
  v->attributes = Repeated{p, 7};
  v->exemplars = Repeated{p, 5};
  WireReader r(p);
  while (r.Next()) {
    switch (r.field()) {
      case 2: SLUICE_F64(v->start_time); break;
      case 3: SLUICE_F64(v->time); break;
      case 4:
        if (r.wire_type() == kI64) {
          v->as_double = BitsToDouble(r.Fixed64());
          v->has_double = true;
          v->has_int = false;
        } else {
          r.Skip();
        }
        break;
      case 6:
        if (r.wire_type() == kI64) {
          v->as_int = static_cast<int64_t>(r.Fixed64());
          v->has_int = true;
          v->has_double = false;
        } else {
          r.Skip();
        }
        break;
      case 8: SLUICE_VARINT(v->flags, uint32_t); break;
      default: r.Skip();
    }
  }
}

void ParseHistogramPoint(std::string_view p, PointView* v) {
  v->attributes = Repeated{p, 9};
  v->exemplars = Repeated{p, 8};
  v->bucket_counts = Packed{p, 6, false};
  v->explicit_bounds = Packed{p, 7, false};
  WireReader r(p);
  uint64_t bits = 0;
  while (r.Next()) {
    switch (r.field()) {
      case 2: SLUICE_F64(v->start_time); break;
      case 3: SLUICE_F64(v->time); break;
      case 4: SLUICE_F64(v->count); break;
      case 5:
        if (r.wire_type() == kI64) {
          bits = r.Fixed64();
          v->sum = BitsToDouble(bits);
          v->has_sum = true;
        } else {
          r.Skip();
        }
        break;
      case 10: SLUICE_VARINT(v->flags, uint32_t); break;
      case 11:
        if (r.wire_type() == kI64) {
          v->min = BitsToDouble(r.Fixed64());
          v->has_min = true;
        } else {
          r.Skip();
        }
        break;
      case 12:
        if (r.wire_type() == kI64) {
          v->max = BitsToDouble(r.Fixed64());
          v->has_max = true;
        } else {
          r.Skip();
        }
        break;
      default: r.Skip();
    }
  }
}

void ParseExpHistogramPoint(std::string_view p, PointView* v) {
  v->attributes = Repeated{p, 1};
  v->exemplars = Repeated{p, 11};
  WireReader r(p);
  while (r.Next()) {
    switch (r.field()) {
      case 2: SLUICE_F64(v->start_time); break;
      case 3: SLUICE_F64(v->time); break;
      case 4: SLUICE_F64(v->count); break;
      case 5:
        if (r.wire_type() == kI64) {
          v->sum = BitsToDouble(r.Fixed64());
          v->has_sum = true;
        } else {
          r.Skip();
        }
        break;
      case 6:
        if (r.wire_type() == kVarint) {
          v->scale = ZigZag32(r.Varint());
        } else {
          r.Skip();
        }
        break;
      case 7: SLUICE_F64(v->zero_count); break;
      case 8:
        if (r.wire_type() == kLen) {
          v->positive = ParseBuckets(r.Len());
        } else {
          r.Skip();
        }
        break;
      case 9:
        if (r.wire_type() == kLen) {
          v->negative = ParseBuckets(r.Len());
        } else {
          r.Skip();
        }
        break;
      case 10: SLUICE_VARINT(v->flags, uint32_t); break;
      case 12:
        if (r.wire_type() == kI64) {
          v->min = BitsToDouble(r.Fixed64());
          v->has_min = true;
        } else {
          r.Skip();
        }
        break;
      case 13:
        if (r.wire_type() == kI64) {
          v->max = BitsToDouble(r.Fixed64());
          v->has_max = true;
        } else {
          r.Skip();
        }
        break;
      case 14:
        if (r.wire_type() == kI64) {
          v->zero_threshold = BitsToDouble(r.Fixed64());
        } else {
          r.Skip();
        }
        break;
      default: r.Skip();
    }
  }
}

void ParseSummaryPoint(std::string_view p, PointView* v) {
  v->attributes = Repeated{p, 7};
  v->quantiles = Repeated{p, 6};
  WireReader r(p);
  while (r.Next()) {
    switch (r.field()) {
      case 2: SLUICE_F64(v->start_time); break;
      case 3: SLUICE_F64(v->time); break;
      case 4: SLUICE_F64(v->count); break;
      case 5:
        if (r.wire_type() == kI64) {
          v->sum = BitsToDouble(r.Fixed64());
          v->has_sum = true;
        } else {
          r.Skip();
        }
        break;
      case 8: SLUICE_VARINT(v->flags, uint32_t); break;
      default: r.Skip();
    }
  }
}

}  // namespace

PointView ParsePoint(MetricKind kind, std::string_view p) {
  PointView v;
  switch (kind) {
    case MetricKind::kGauge:
    case MetricKind::kSum: ParseNumberPoint(p, &v); break;
    case MetricKind::kHistogram: ParseHistogramPoint(p, &v); break;
    case MetricKind::kExpHistogram: ParseExpHistogramPoint(p, &v); break;
    case MetricKind::kSummary: ParseSummaryPoint(p, &v); break;
    case MetricKind::kNone: break;
  }
  return v;
}

EventView ParseEvent(std::string_view e) {
  EventView v;
  v.attributes = Repeated{e, 3};
  WireReader r(e);
  while (r.Next()) {
    switch (r.field()) {
      case 1: SLUICE_F64(v.time); break;
      case 2: SLUICE_LEN(v.name); break;
      case 4: SLUICE_VARINT(v.dropped_attributes_count, uint32_t); break;
      default: r.Skip();
    }
  }
  return v;
}

LinkView ParseLink(std::string_view l) {
  LinkView v;
  v.attributes = Repeated{l, 4};
  WireReader r(l);
  while (r.Next()) {
    switch (r.field()) {
      case 1: SLUICE_LEN(v.trace_id); break;
      case 2: SLUICE_LEN(v.span_id); break;
      case 3: SLUICE_LEN(v.trace_state); break;
      case 5: SLUICE_VARINT(v.dropped_attributes_count, uint32_t); break;
      case 6: SLUICE_F32(v.flags); break;
      default: r.Skip();
    }
  }
  return v;
}

QuantileView ParseQuantile(std::string_view q) {
  QuantileView v;
  WireReader r(q);
  while (r.Next()) {
    if (r.field() == 1 && r.wire_type() == kI64) {
      v.quantile = BitsToDouble(r.Fixed64());
    } else if (r.field() == 2 && r.wire_type() == kI64) {
      v.value = BitsToDouble(r.Fixed64());
    } else {
      r.Skip();
    }
  }
  return v;
}

ExemplarView ParseExemplar(std::string_view e) {
  ExemplarView v;
  v.filtered_attributes = Repeated{e, 7};
  WireReader r(e);
  while (r.Next()) {
    switch (r.field()) {
      case 2: SLUICE_F64(v.time); break;
      case 3:
        if (r.wire_type() == kI64) {
          v.as_double = BitsToDouble(r.Fixed64());
          v.has_double = true;
          v.has_int = false;
        } else {
          r.Skip();
        }
        break;
      case 4: SLUICE_LEN(v.span_id); break;
      case 5: SLUICE_LEN(v.trace_id); break;
      case 6:
        if (r.wire_type() == kI64) {
          v.as_int = static_cast<int64_t>(r.Fixed64());
          v.has_int = true;
          v.has_double = false;
        } else {
          r.Skip();
        }
        break;
      default: r.Skip();
    }
  }
  return v;
}

}  // namespace sluice::otlp
