#include "transform/transforms.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <deque>
#include <new>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "otlp/fields.h"

// Counts heap allocations, so a test can prove that the common filters allocate nothing
// per record. Replaces the global operator new of the test binary (plain malloc below);
// not under the sanitizers, which pair their own new and delete.
namespace {
std::atomic<uint64_t> g_allocations{0};
}
#if !defined(__SANITIZE_ADDRESS__)
#define SLUICE_COUNT_ALLOCATIONS 1
// The replacements below pair malloc with free on purpose.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n ? n : 1);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
#endif

namespace sluice::transform {
namespace {

namespace pb = opentelemetry::proto;

// Logs: service checkout, 3 records (severity 9, 17, 21), attributes with a duplicate key.
std::string LogsRequest() {
  pb::collector::logs::v1::ExportLogsServiceRequest req;
  auto* rl = req.add_resource_logs();
  auto* a = rl->mutable_resource()->add_attributes();
  a->set_key("service.name");
  a->mutable_value()->set_string_value("checkout");
  auto* sl = rl->add_scope_logs();
  sl->mutable_scope()->set_name("lib");
  const int sev[] = {9, 17, 21};
  for (int i = 0; i < 3; ++i) {
    auto* r = sl->add_log_records();
    r->set_time_unix_nano(1717171717000000000ull + i);
    r->set_severity_number(static_cast<pb::logs::v1::SeverityNumber>(sev[i]));
    r->set_severity_text(i == 0 ? "info" : "error");
    r->mutable_body()->set_string_value("order " + std::to_string(i) + (i == 2 ? " timeout" : ""));
    auto* kv = r->add_attributes();
    kv->set_key("req.id");
    kv->mutable_value()->set_string_value(i == 2 ? "r0" : "r" + std::to_string(i));
    auto* n = r->add_attributes();
    n->set_key("n");
    n->mutable_value()->set_int_value(40 + i);
    auto* dup = r->add_attributes();  // the last occurrence of a key wins
    dup->set_key("n");
    dup->mutable_value()->set_int_value(100 + i);
  }
  return req.SerializeAsString();
}

// The records of a request, with copies of the views they point to (ForEachRecord's are
// gone once it returns), kept alive for the test binary's run.
std::vector<otlp::RecordCtx> Records(Signal s, const std::string& req) {
  static std::deque<otlp::ResourceView> resources;
  static std::deque<otlp::ScopeView> scopes;
  static std::deque<otlp::LogView> logs;
  static std::deque<otlp::SpanView> spans;
  std::vector<otlp::RecordCtx> out;
  otlp::ForEachRecord(s, req, [&](const otlp::RecordCtx& c) {
    otlp::RecordCtx copy = c;
    copy.res = &resources.emplace_back(*c.res);
    copy.scope = &scopes.emplace_back(*c.scope);
    if (c.log) copy.log = &logs.emplace_back(*c.log);
    if (c.span) copy.span = &spans.emplace_back(*c.span);
    out.push_back(copy);
  });
  return out;
}

TransformSpec FilterSpec(std::string expr) {
  TransformSpec s;
  s.filter = true;
  s.filter_index = 0;
  s.filter_expression = std::move(expr);
  return s;
}

TEST(Transforms, FilterKeepsDropsAndDeadLetters) {
  const std::string req = LogsRequest();
  const auto recs = Records(Signal::kLogs, req);
  ASSERT_EQ(recs.size(), 3u);
  auto t = Transforms::Compile(
      Signal::kLogs,
      FilterSpec("severity_number >= 17 and resource_attributes['service.name'] == 'checkout'"));
  ASSERT_TRUE(t.ok()) << t.status();
  Transforms::Scratch s(Signal::kLogs);
  EXPECT_EQ((*t)->Filter(recs[0], s), Transforms::Verdict::kDrop);
  EXPECT_EQ((*t)->Filter(recs[1], s), Transforms::Verdict::kKeep);
  EXPECT_EQ((*t)->Filter(recs[2], s), Transforms::Verdict::kKeep);

  // Attribute values are strings (GlassFlow's map[string]string); the last duplicate wins.
  t = Transforms::Compile(Signal::kLogs, FilterSpec("attributes['n'] == '101'"));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ((*t)->Filter(recs[1], s), Transforms::Verdict::kKeep);
  EXPECT_EQ((*t)->Filter(recs[0], s), Transforms::Verdict::kDrop);

  // A run-time error and a non-bool result go to the dead-letter queue with the reason.
  t = Transforms::Compile(Signal::kLogs, FilterSpec("int(body) > 1"));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ((*t)->Filter(recs[0], s), Transforms::Verdict::kDeadLetter);
  EXPECT_NE(s.why.find("filter evaluation error: evaluating expression: strconv.Atoi"),
            std::string::npos)
      << s.why;
  t = Transforms::Compile(Signal::kLogs, FilterSpec("attributes['n']"));  // not known statically
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ((*t)->Filter(recs[0], s), Transforms::Verdict::kDeadLetter);
  EXPECT_NE(s.why.find("not a bool"), std::string::npos) << s.why;
}

TEST(Transforms, CheckedAgainstTheFlattenedSchema) {
  auto bad = [](std::string e) {
    auto t = Transforms::Compile(Signal::kLogs, FilterSpec(std::move(e)));
    return t.ok() ? std::string("ok") : std::string(t.status().message());
  };
  EXPECT_NE(bad("severity_numbr > 1")
                .find("transforms[0].config.expression: unknown name "
                      "severity_numbr (1:1)\n | severity_numbr > 1\n | ^"),
            std::string::npos);
  EXPECT_NE(bad("body > 5").find("mismatched types string and int"), std::string::npos);
  EXPECT_NE(bad("severity_number % 2 == 0").find("mismatched types float64 and int"),
            std::string::npos);
  EXPECT_NE(bad("severity_text").find("must evaluate to a bool"), std::string::npos);
  EXPECT_NE(bad("   ").find("empty expression"), std::string::npos);
  EXPECT_NE(bad("toInt(body) > 1").find("unknown name toInt"),
            std::string::npos);  // filters: builtins only
  EXPECT_EQ(bad("int(severity_number) % 2 == 1"), "ok");
  EXPECT_EQ(bad("resource_attributes['service.name'] == 'api'"), "ok");  // maps are maps
  EXPECT_EQ(bad("any(split(body, ' '), # == 'x') or true"), "ok");
  EXPECT_NE(bad("any(attributes, # == 1)").find("builtin any takes only array"), std::string::npos);
  EXPECT_NE(bad("event_name").find("must evaluate to a bool"), std::string::npos);
  // Span fields in a logs pipeline are unknown names.
  EXPECT_NE(bad("duration_ns > 5").find("unknown name duration_ns"), std::string::npos);
}

TEST(Transforms, StatelessOutputsConvertPerOutputType) {
  const std::string req = LogsRequest();
  const auto recs = Records(Signal::kLogs, req);
  TransformSpec spec;
  spec.stateless = true;
  spec.stateless_index = 1;
  spec.outputs = {{"timestamp", "ts", "string"},
                  {"upper(severity_text)", "sev", "string"},
                  {"attributes['n']", "n", "int"},
                  {"toFloat(attributes['n']) / 8", "f", "float64"},
                  {"severity_number > 10", "b", "bool"},
                  {"split(body, ' ')", "words", "[]string"},
                  {"attributes", "attrs", "map"},
                  {"'late'", "sev", "string"}};  // a repeated name: the last wins
  auto t = Transforms::Compile(Signal::kLogs, spec);
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ((*t)->outputs().size(), 7u);
  EXPECT_EQ((*t)->outputs()[1].name, "sev");
  Transforms::Scratch s(Signal::kLogs);
  ASSERT_TRUE((*t)->Stateless(recs[2], s)) << s.why;
  const auto& o = s.outputs;
  EXPECT_EQ(o[0].kind, otlp::VKind::kTime);  // passed through: nanoseconds kept
  EXPECT_EQ(o[0].u, 1717171717000000002ull);
  EXPECT_EQ(o[1].kind, otlp::VKind::kStr);
  EXPECT_EQ(o[1].s, "late");
  EXPECT_EQ(o[2].kind, otlp::VKind::kI64);
  EXPECT_EQ(o[2].i, 102);
  EXPECT_EQ(o[3].kind, otlp::VKind::kF64);
  EXPECT_DOUBLE_EQ(o[3].d, 12.75);
  EXPECT_EQ(o[4].kind, otlp::VKind::kBool);
  EXPECT_TRUE(o[4].b);
  ASSERT_EQ(o[5].kind, otlp::VKind::kList);
  ASSERT_EQ(o[5].list_size, 3u);
  EXPECT_EQ(o[5].list[2].s, "timeout");
  EXPECT_EQ(o[6].kind, otlp::VKind::kAttrs);  // the map read in place

  // A conversion that fails fails the record, with GlassFlow's wording.
  spec.outputs = {{"body", "n", "int"}};
  t = Transforms::Compile(Signal::kLogs, spec);
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE((*t)->Stateless(recs[0], s));
  EXPECT_EQ(s.why, "convert result for column n: unable to cast order 0 of type string to int64");
  spec.outputs = {{"1 / 0", "x", "float64"}};
  t = Transforms::Compile(Signal::kLogs, spec);
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE((*t)->Stateless(recs[0], s));
  EXPECT_NE(s.why.find("json: unsupported value: +Inf"), std::string::npos) << s.why;
  spec.outputs = {{"nosuch_field", "x", "string"}};
  EXPECT_NE(Transforms::Compile(Signal::kLogs, spec)
                .status()
                .message()
                .find("transforms[1].config.transforms[0].expression: unknown name nosuch_field"),
            std::string::npos);
}

TEST(Transforms, DedupKeysFromPathsAndMultipaths) {
  const std::string req = LogsRequest();
  const auto recs = Records(Signal::kLogs, req);
  TransformSpec spec;
  spec.dedup = true;
  spec.dedup_index = 0;
  spec.dedup_key = "attributes.req.id";
  auto t = Transforms::Compile(Signal::kLogs, spec);
  ASSERT_TRUE(t.ok()) << t.status();
  Transforms::Scratch s(Signal::kLogs);
  Key128 k0, k1, k2;
  ASSERT_TRUE((*t)->Key(recs[0], s, &k0));
  EXPECT_EQ(s.key, "r0");
  ASSERT_TRUE((*t)->Key(recs[1], s, &k1));
  ASSERT_TRUE((*t)->Key(recs[2], s, &k2));
  EXPECT_EQ(k0, k2);
  EXPECT_FALSE(k0 == k1);
  spec.dedup_key = "{\"id\":attributes.req.id,severity_text,missing:trace_id}";
  t = Transforms::Compile(Signal::kLogs, spec);
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_TRUE((*t)->Key(recs[2], s, &k2));
  EXPECT_EQ(s.key, R"({"id":"r0","severity_text":"error"})");  // absent parts left out
  spec.dedup_key = "[severity_number,body]";
  t = Transforms::Compile(Signal::kLogs, spec);
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE((*t)->Key(recs[0], s, &k0));
  EXPECT_EQ(s.key, R"([9,"order 0"])");
  spec.dedup_key = "event_name";  // absent: no key, the record is kept
  t = Transforms::Compile(Signal::kLogs, spec);
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE((*t)->Key(recs[0], s, &k0));
  spec.dedup_key = "nosuch";
  EXPECT_NE(
      Transforms::Compile(Signal::kLogs, spec).status().message().find("transforms[0].config.key"),
      std::string::npos);
}

TEST(Transforms, SpansSeeEventsAsArraysOfObjects) {
  pb::collector::trace::v1::ExportTraceServiceRequest req;
  auto* sp = req.add_resource_spans()->add_scope_spans()->add_spans();
  sp->set_trace_id(std::string(16, '\x01'));
  sp->set_span_id(std::string(8, '\x02'));
  sp->set_name("GET /");
  sp->set_kind(pb::trace::v1::Span::SPAN_KIND_SERVER);
  sp->set_start_time_unix_nano(1000);
  sp->set_end_time_unix_nano(3000000000ull);
  sp->mutable_status()->set_code(pb::trace::v1::Status::STATUS_CODE_ERROR);
  sp->add_events()->set_name("exception");
  const std::string bytes = req.SerializeAsString();
  const auto recs = Records(Signal::kTraces, bytes);
  ASSERT_EQ(recs.size(), 1u);
  auto t = Transforms::Compile(
      Signal::kTraces, FilterSpec("any(events, .name == 'exception') and kind == 'SERVER' and "
                                  "status_code == 'ERROR' and duration_ns > 1e9 and "
                                  "trace_id == '01010101010101010101010101010101'"));
  ASSERT_TRUE(t.ok()) << t.status();
  Transforms::Scratch s(Signal::kTraces);
  EXPECT_EQ((*t)->Filter(recs[0], s), Transforms::Verdict::kKeep) << s.why;
  TransformSpec spec;
  spec.stateless = true;
  spec.outputs = {{"'SPAN_KIND_' + kind", "kind", "string"},
                  {"'STATUS_CODE_' + status_code", "status", "string"},
                  {"events", "events", "array"}};
  t = Transforms::Compile(Signal::kTraces, spec);
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_TRUE((*t)->Stateless(recs[0], s)) << s.why;
  EXPECT_EQ(s.outputs[0].s, "SPAN_KIND_SERVER");
  EXPECT_EQ(s.outputs[1].s, "STATUS_CODE_ERROR");
  EXPECT_EQ(s.outputs[2].kind, otlp::VKind::kStructs);  // passed through: Nested columns fit
  EXPECT_EQ((*t)->outputs()[2].element, otlp::StructKind::kEvent);
}

// The common filters (comparisons, string tests, attribute look-ups) allocate nothing per
// record once warm.
TEST(Transforms, CommonFiltersAllocateNothingPerRecord) {
#if !defined(SLUICE_COUNT_ALLOCATIONS)
  GTEST_SKIP() << "allocations are counted outside the sanitizer build";
#endif
  const std::string req = LogsRequest();
  const auto recs = Records(Signal::kLogs, req);
  for (const char* e :
       {"severity_number >= 17", "resource_attributes['service.name'] == 'checkout'",
        "body contains 'timeout' or severity_text startsWith 'err'",
        "attributes['req.id'] in ['r0', 'r9'] and scope_name != 'x'",
        "severity_number > 10 && body matches '(?i)TIMEOUT'",
        "(attributes?.['n'] ?? '') == '100'"}) {
    auto t = Transforms::Compile(Signal::kLogs, FilterSpec(e));
    ASSERT_TRUE(t.ok()) << e << ": " << t.status();
    Transforms::Scratch s(Signal::kLogs);
    for (const auto& r : recs) (*t)->Filter(r, s);  // warm up
    const uint64_t before = g_allocations.load();
    for (int i = 0; i < 1000; ++i)
      for (const auto& r : recs)
        ASSERT_NE((*t)->Filter(r, s), Transforms::Verdict::kDeadLetter) << e << s.why;
    EXPECT_EQ(g_allocations.load() - before, 0u) << e;
  }
}

}  // namespace
}  // namespace sluice::transform
