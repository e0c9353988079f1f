#include "loadgen/requests.h"

#include <absl/strings/escaping.h>
#include <google/protobuf/util/json_util.h>

#include <cstdio>
#include <cstring>
#include <regex>

#include "core/bytes.h"
#include "core/cat.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace sluice::loadgen {

namespace common = opentelemetry::proto::common::v1;
namespace logs = opentelemetry::proto::logs::v1;
namespace trace = opentelemetry::proto::trace::v1;
namespace metrics = opentelemetry::proto::metrics::v1;
namespace resource = opentelemetry::proto::resource::v1;

namespace {

const std::string kPlaceholder(kIdWidth, '~');
constexpr uint64_t kBaseNanos = 1764000000000000000ull;  // 2025-11-24

// A small deterministic generator (xorshift), so templates are reproducible.
struct Rng {
  uint64_t s;
  uint64_t Next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  uint64_t Below(uint64_t n) { return Next() % n; }
};

void Str(common::KeyValue* kv, const std::string& k, const std::string& v) {
  kv->set_key(k);
  kv->mutable_value()->set_string_value(v);
}
template <class M>
void Attr(M* m, const std::string& k, const std::string& v) {
  Str(m->add_attributes(), k, v);
}
template <class M>
void AttrInt(M* m, const std::string& k, int64_t v) {
  auto* kv = m->add_attributes();
  kv->set_key(k);
  kv->mutable_value()->set_int_value(v);
}
template <class M>
void AttrDouble(M* m, const std::string& k, double v) {
  auto* kv = m->add_attributes();
  kv->set_key(k);
  kv->mutable_value()->set_double_value(v);
}

void FillResource(resource::Resource* r, Rng& rng, uint32_t variant) {
  static const char* kServices[] = {"checkout", "payments", "frontend", "cart", "shipping"};
  const std::string svc = kServices[variant % 5];
  Attr(r, "service.name", svc);
  Attr(r, "service.version", Cat("1.", variant % 7, ".3"));
  Attr(r, "deployment.environment", "production");
  Attr(r, "host.name", Cat("ip-10-0-", rng.Below(255), "-", rng.Below(255), ".ec2.internal"));
  Attr(r, "k8s.namespace.name", "shop");
  Attr(r, "k8s.pod.name", Cat(svc, "-7d9f8b6c4-", 10000 + rng.Below(89999)));
  Attr(r, "telemetry.sdk.language", "go");
}

std::string Bytes(Rng& rng, size_t n) {
  std::string b(n, '\0');
  for (auto& c : b) c = static_cast<char>(rng.Next());
  if (b[0] == 0) b[0] = 1;  // all-zero ids are invalid
  return b;
}

std::string Body(Rng& rng, BodyRange range) {
  static const char* kWords[] = {"request", "handled", "user",     "cart",    "checkout",
                                 "payment", "latency", "upstream", "retry",   "cache",
                                 "miss",    "order",   "shipped",  "timeout", "ok"};
  const size_t len = range.min + rng.Below(range.max - range.min + 1);
  std::string s;
  while (s.size() < len) {
    if (!s.empty()) s += ' ';
    s += kWords[rng.Below(15)];
    if (rng.Below(4) == 0) s += Cat("=", rng.Below(100000));
  }
  s.resize(len);
  return s;
}

std::string BuildLogs(size_t n, Rng& rng, uint32_t variant, BodyRange body) {
  opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest req;
  auto* rl = req.add_resource_logs();
  FillResource(rl->mutable_resource(), rng, variant);
  rl->set_schema_url("https://opentelemetry.io/schemas/1.24.0");
  auto* sl = rl->add_scope_logs();
  sl->mutable_scope()->set_name(Cat("github.com/shop/", variant % 5, "/log"));
  sl->mutable_scope()->set_version("0.9.1");
  static const char* kRoutes[] = {"/api/cart", "/api/checkout", "/api/pay", "/healthz"};
  static const char* kMethods[] = {"GET", "POST", "PUT"};
  for (size_t i = 0; i < n; ++i) {
    auto* r = sl->add_log_records();
    r->set_time_unix_nano(kBaseNanos + i * 1000);
    r->set_observed_time_unix_nano(kBaseNanos + i * 1000 + 500);
    const int sev = rng.Below(10) == 0 ? 17 : 9;
    r->set_severity_number(static_cast<logs::SeverityNumber>(sev));
    r->set_severity_text(sev == 17 ? "ERROR" : "INFO");
    r->mutable_body()->set_string_value(Body(rng, body));
    Attr(r, "loadgen.id", kPlaceholder);
    Attr(r, "http.request.method", kMethods[rng.Below(3)]);
    Attr(r, "http.route", kRoutes[rng.Below(4)]);
    AttrInt(r, "http.response.status_code", rng.Below(10) == 0 ? 500 : 200);
    Attr(r, "user.id", Cat("u-", rng.Below(1000000)));
    AttrDouble(r, "duration_ms", static_cast<double>(rng.Below(100000)) / 100.0);
    Attr(r, "cloud.region", "eu-west-1");
    Attr(r, "thread.name", Cat("worker-", rng.Below(32)));
    r->set_trace_id(Bytes(rng, 16));
    r->set_span_id(Bytes(rng, 8));
    r->set_flags(1);
  }
  return req.SerializeAsString();
}

std::string BuildTraces(size_t n, Rng& rng, uint32_t variant) {
  opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest req;
  auto* rs = req.add_resource_spans();
  FillResource(rs->mutable_resource(), rng, variant);
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("go.opentelemetry.io/contrib/instrumentation/net/http");
  ss->mutable_scope()->set_version("0.49.0");
  std::string trace_id = Bytes(rng, 16);
  for (size_t i = 0; i < n; ++i) {
    if (i % 8 == 0) trace_id = Bytes(rng, 16);  // traces of 8 spans
    auto* s = ss->add_spans();
    s->set_trace_id(trace_id);
    s->set_span_id(Bytes(rng, 8));
    if (i % 8) s->set_parent_span_id(Bytes(rng, 8));
    s->set_name(i % 8 ? "SELECT shop.orders" : "POST /api/checkout");
    s->set_kind(i % 8 ? trace::Span::SPAN_KIND_CLIENT : trace::Span::SPAN_KIND_SERVER);
    const uint64_t start = kBaseNanos + i * 100000;
    s->set_start_time_unix_nano(start);
    s->set_end_time_unix_nano(start + 1000 + rng.Below(5000000));
    Attr(s, "loadgen.id", kPlaceholder);
    Attr(s, "http.request.method", "POST");
    AttrInt(s, "http.response.status_code", 200);
    Attr(s, "db.system", "postgresql");
    Attr(s, "server.address", "db-1.shop.svc");
    AttrInt(s, "server.port", 5432);
    auto* ev = s->add_events();
    ev->set_time_unix_nano(start + 500);
    ev->set_name("cache.miss");
    Attr(ev, "cache.key", Cat("order:", rng.Below(100000)));
    if (rng.Below(4) == 0) {
      auto* link = s->add_links();
      link->set_trace_id(Bytes(rng, 16));
      link->set_span_id(Bytes(rng, 8));
      Attr(link, "link.kind", "follows");
    }
    s->mutable_status()->set_code(rng.Below(20) == 0 ? trace::Status::STATUS_CODE_ERROR
                                                     : trace::Status::STATUS_CODE_OK);
  }
  return req.SerializeAsString();
}

template <class P>
void PointBase(P* p, Rng& rng, size_t i) {
  p->set_start_time_unix_nano(kBaseNanos);
  p->set_time_unix_nano(kBaseNanos + i * 1000000);
  Attr(p, "loadgen.id", kPlaceholder);
  Attr(p, "http.route", Cat("/api/", rng.Below(20)));
  Attr(p, "cloud.region", "eu-west-1");
}

std::string BuildMetrics(size_t n, Rng& rng, uint32_t variant) {
  opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest req;
  auto* rm = req.add_resource_metrics();
  FillResource(rm->mutable_resource(), rng, variant);
  auto* sm = rm->add_scope_metrics();
  sm->mutable_scope()->set_name("go.opentelemetry.io/otel/sdk/metric");
  // Points spread over the five kinds, 10 points per metric.
  for (size_t i = 0; i < n;) {
    auto* m = sm->add_metrics();
    const size_t kind = (i / 10) % 5;
    const size_t points = std::min<size_t>(10, n - i);
    switch (kind) {
      case 0: {
        m->set_name("process.runtime.go.goroutines");
        m->set_unit("{goroutine}");
        for (size_t k = 0; k < points; ++k) {
          auto* p = m->mutable_gauge()->add_data_points();
          PointBase(p, rng, i + k);
          p->set_as_int(static_cast<int64_t>(rng.Below(5000)));
        }
        break;
      }
      case 1: {
        m->set_name("http.server.request.count");
        m->set_unit("{request}");
        m->mutable_sum()->set_is_monotonic(true);
        m->mutable_sum()->set_aggregation_temporality(metrics::AGGREGATION_TEMPORALITY_CUMULATIVE);
        for (size_t k = 0; k < points; ++k) {
          auto* p = m->mutable_sum()->add_data_points();
          PointBase(p, rng, i + k);
          p->set_as_double(static_cast<double>(rng.Below(1000000)));
        }
        break;
      }
      case 2: {
        m->set_name("http.server.request.duration");
        m->set_unit("s");
        m->mutable_histogram()->set_aggregation_temporality(metrics::AGGREGATION_TEMPORALITY_DELTA);
        for (size_t k = 0; k < points; ++k) {
          auto* p = m->mutable_histogram()->add_data_points();
          PointBase(p, rng, i + k);
          uint64_t total = 0;
          for (double b : {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0}) {
            p->add_explicit_bounds(b);
            const uint64_t c = rng.Below(100);
            p->add_bucket_counts(c);
            total += c;
          }
          p->add_bucket_counts(rng.Below(5));
          p->set_count(total);
          p->set_sum(static_cast<double>(total) * 0.07);
          p->set_min(0.001);
          p->set_max(1.7);
        }
        break;
      }
      case 3: {
        m->set_name("rpc.client.duration");
        m->set_unit("ms");
        m->mutable_exponential_histogram()->set_aggregation_temporality(
            metrics::AGGREGATION_TEMPORALITY_DELTA);
        for (size_t k = 0; k < points; ++k) {
          auto* p = m->mutable_exponential_histogram()->add_data_points();
          PointBase(p, rng, i + k);
          p->set_scale(3);
          p->set_zero_count(rng.Below(3));
          p->mutable_positive()->set_offset(5);
          uint64_t total = p->zero_count();
          for (int b = 0; b < 12; ++b) {
            const uint64_t c = rng.Below(50);
            p->mutable_positive()->add_bucket_counts(c);
            total += c;
          }
          p->set_count(total);
          p->set_sum(static_cast<double>(total) * 3.1);
        }
        break;
      }
      default: {
        m->set_name("jvm.gc.pause");
        m->set_unit("ms");
        for (size_t k = 0; k < points; ++k) {
          auto* p = m->mutable_summary()->add_data_points();
          PointBase(p, rng, i + k);
          p->set_count(100 + rng.Below(100));
          p->set_sum(static_cast<double>(rng.Below(100000)) / 10.0);
          for (double q : {0.5, 0.9, 0.99}) {
            auto* qv = p->add_quantile_values();
            qv->set_quantile(q);
            qv->set_value(q * 40.0);
          }
        }
        break;
      }
    }
    i += points;
  }
  return req.SerializeAsString();
}

// OTLP/JSON differs from protobuf's JSON mapping in ids (hex, not base64) and enums
// (integers); everything else (camelCase names, 64-bit integers as strings) matches.
std::string ToOtlpJson(Signal signal, const std::string& proto) {
  google::protobuf::util::JsonPrintOptions opts;
  opts.always_print_enums_as_ints = true;
  std::string json;
  auto convert = [&](auto& msg) {
    msg.ParseFromString(proto);
    (void)google::protobuf::util::MessageToJsonString(msg, &json, opts);
  };
  if (signal == Signal::kLogs) {
    opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest m;
    convert(m);
  } else if (signal == Signal::kTraces) {
    opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest m;
    convert(m);
  } else {
    opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest m;
    convert(m);
  }
  static const std::regex kId(R"re("(traceId|spanId|parentSpanId)":"([A-Za-z0-9+/=]*)")re");
  std::string out;
  auto begin = std::sregex_iterator(json.begin(), json.end(), kId);
  size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    const auto& m = *it;
    out.append(json, last, m.position(0) - last);
    std::string raw;
    (void)absl::Base64Unescape(m.str(2), &raw);  // libprotobuf's own output: valid
    std::string hex;
    AppendHex(raw, &hex);
    out += Cat("\"", m.str(1), "\":\"", hex, "\"");
    last = m.position(0) + m.length(0);
  }
  out.append(json, last, std::string::npos);
  return out;
}

}  // namespace

RequestTemplate RequestTemplate::Build(Signal signal, Encoding encoding, size_t records,
                                       uint32_t variant, BodyRange body) {
  Rng rng{0x9e3779b97f4a7c15ull ^ (static_cast<uint64_t>(variant) + 1) * 0x2545f4914f6cdd1dull};
  std::string proto = signal == Signal::kLogs     ? BuildLogs(records, rng, variant, body)
                      : signal == Signal::kTraces ? BuildTraces(records, rng, variant)
                                                  : BuildMetrics(records, rng, variant);
  RequestTemplate t;
  t.body_ = encoding == Encoding::kJson ? ToOtlpJson(signal, proto) : std::move(proto);
  for (size_t at = t.body_.find(kPlaceholder); at != std::string::npos;
       at = t.body_.find(kPlaceholder, at + kIdWidth))
    t.id_offsets_.push_back(at);
  return t;
}

std::string RecordId(uint16_t run, uint16_t conn, uint64_t seq) {
  char buf[kIdWidth + 1];
  std::snprintf(buf, sizeof(buf), "%04x-%04x-%012llx", run, conn,
                static_cast<unsigned long long>(seq & 0xffffffffffffull));
  return std::string(buf, kIdWidth);
}

const std::string& RequestTemplate::Stamp(uint16_t run, uint16_t conn, uint64_t first_seq) {
  static constexpr char kHex[] = "0123456789abcdef";
  char prefix[10];
  std::snprintf(prefix, sizeof(prefix), "%04x-%04x", run, conn);
  for (size_t i = 0; i < id_offsets_.size(); ++i) {
    char* d = body_.data() + id_offsets_[i];
    std::memcpy(d, prefix, 9);
    d[9] = '-';
    uint64_t v = first_seq + i;
    for (int k = 21; k >= 10; --k, v >>= 4) d[k] = kHex[v & 15];
  }
  return body_;
}

}  // namespace sluice::loadgen
