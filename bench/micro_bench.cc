// Micro-benchmarks of the hot path: validate, decode + flatten + RowBinary encode per signal,
// OTLP/JSON transcoding, gzip inflate and the durable append, on the load generator's
// requests (1000 records; logs of ~330 bytes with 8 attributes). Run with `make bench`.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "buffer/crc32c.h"
#include "buffer/local_log.h"
#include "clickhouse/compressed_frames.h"
#include "clickhouse/insert_plan.h"
#include "clickhouse/native.h"
#include "core/fs.h"
#include "loadgen/requests.h"
#include "otlp/fields.h"
#include "otlp/json.h"
#include "otlp/validate.h"
#include "pipeline/batch_encoder.h"
#include "pipeline/config.h"
#include "pipeline/dedup_stage.h"
#include "receivers/decompress.h"
#include "transform/transforms.h"

namespace sluice {
namespace {

// The load generator's requests: 1000 records; logs of about 330 bytes (20-80 byte
// bodies, 8 attributes, ids, semantic-convention resource attributes).
const std::string& Request(Signal s, loadgen::Encoding e = loadgen::Encoding::kProtobuf) {
  static std::map<std::pair<Signal, loadgen::Encoding>, std::string> cache;
  auto& r = cache[{s, e}];
  if (r.empty()) r = loadgen::RequestTemplate::Build(s, e, 1000, 0, {20, 80}).Stamp(1, 1, 0);
  return r;
}
const std::string& Logs() { return Request(Signal::kLogs); }

// The routes of an example pipeline (examples/pipelines/<file>), with the column types its
// mapping declares standing in for DESCRIBE; a metrics pipeline writes every kind to one
// table holding all its columns.
// With `nested_maps`, map columns are Nested(key, value) as on ClickHouse before Map (18.16:
// what the end-to-end benchmark writes to).
pipeline::Routes RoutesOf(const std::string& file, bool nested_maps = false) {
  std::ifstream f(std::string(SLUICE_SOURCE_DIR) + "/examples/pipelines/" + file);
  std::stringstream ss;
  ss << f.rdbuf();
  auto config = pipeline::ParsePipeline(ss.str());
  if (!config.ok()) std::abort();
  std::string describe;
  std::set<std::string> seen;
  for (const auto& m : config->sink.mapping) {
    if (!seen.insert(m.column_name).second) continue;
    auto type = clickhouse::ParseType(m.column_type);
    if (!type.ok()) std::abort();
    if (nested_maps && type->kind == clickhouse::Type::kMap) {
      describe +=
          m.column_name + ".key\tArray(String)\n" + m.column_name + ".value\tArray(String)\n";
    } else if (type->kind == clickhouse::Type::kNested) {
      // DESCRIBE shows a Nested column as one Array column per member.
      for (size_t i = 0; i < type->children.size(); ++i)
        describe +=
            m.column_name + "." + type->names[i] + "\tArray(" + type->children[i].text + ")\n";
    } else {
      describe += m.column_name + "\t" + m.column_type + "\n";
    }
  }
  auto cols = clickhouse::ParseDescribe(describe);
  auto plan = clickhouse::BuildPlan(config->signal, config->sink.mapping, *cols, "otel", "t");
  if (!plan.ok()) {
    std::fprintf(stderr, "%s: %s\n", file.c_str(), std::string(plan.status().message()).c_str());
    std::abort();
  }
  pipeline::Routes routes;
  routes.tables = {"t"};
  routes.plans = {std::move(*plan)};
  return routes;
}

void BM_Validate(benchmark::State& state) {
  const std::string& req = Logs();
  for (auto _ : state) benchmark::DoNotOptimize(otlp::Validate(Signal::kLogs, req));
  state.SetItemsProcessed(state.iterations() * 1000);
  state.SetBytesProcessed(state.iterations() * req.size());
}
BENCHMARK(BM_Validate);

// Worker: decode + flatten + RowBinary for the example pipeline of each signal (ClickStack
// tables: maps, Nested events/links/exemplars, a dotted service.name look-up).
void BM_DecodeFlattenEncode(benchmark::State& state, Signal signal, const char* pipeline_file,
                            bool nested_maps = false) {
  const std::string& req = Request(signal);
  pipeline::Routes routes = RoutesOf(pipeline_file, nested_maps);
  std::vector<pipeline::Batch> batches(1);
  for (auto _ : state) {
    batches[0].rows.clear();
    batches[0].row_count = 0;
    pipeline::EncodeRequest(signal, routes, req, SIZE_MAX, batches, [](pipeline::Batch*) {});
    benchmark::DoNotOptimize(batches[0].rows.data());
  }
  state.SetItemsProcessed(state.iterations() * 1000);
  state.SetBytesProcessed(state.iterations() * req.size());
}
BENCHMARK_CAPTURE(BM_DecodeFlattenEncode, logs, Signal::kLogs, "otel-logs.json");
BENCHMARK_CAPTURE(BM_DecodeFlattenEncode, logs_nested, Signal::kLogs, "otel-logs.json", true);
BENCHMARK_CAPTURE(BM_DecodeFlattenEncode, traces, Signal::kTraces, "otel-traces.json");
BENCHMARK_CAPTURE(BM_DecodeFlattenEncode, metrics, Signal::kMetrics, "otel-metrics.json");

// The same as the worker meets it: every request new to the caches (64 distinct requests,
// 22 MB, in turn) and rows going into 10,000-row batches that are handed on when full.
void BM_DecodeFlattenEncodeCold(benchmark::State& state) {
  std::vector<std::string> reqs;
  auto tmpl = loadgen::RequestTemplate::Build(Signal::kLogs, loadgen::Encoding::kProtobuf, 1000, 0,
                                              {20, 80});
  for (uint32_t i = 0; i < 64; ++i) reqs.push_back(tmpl.Stamp(1, i + 1, 0));
  pipeline::Routes routes = RoutesOf("otel-logs.json", true);
  std::vector<pipeline::Batch> batches(1);
  std::string spare;
  auto flush = [&](pipeline::Batch* b) {
    std::swap(b->rows, spare);  // as the worker does: the next batch reuses a buffer
    b->rows.clear();
    b->row_count = 0;
  };
  size_t i = 0;
  for (auto _ : state) {
    pipeline::EncodeRequest(Signal::kLogs, routes, reqs[i++ % reqs.size()], 10000, batches, flush);
    benchmark::DoNotOptimize(batches[0].rows.data());
  }
  state.SetItemsProcessed(state.iterations() * 1000);
  state.SetBytesProcessed(state.iterations() * reqs[0].size());
}
BENCHMARK(BM_DecodeFlattenEncodeCold);

// Sink: a batch's RowBinary rows into one Native block (what is sent), 18.16's layout.
void BM_RowBinaryToNative(benchmark::State& state) {
  const std::string& req = Request(Signal::kLogs);
  pipeline::Routes routes = RoutesOf("otel-logs.json", true);
  std::vector<pipeline::Batch> batches(1);
  pipeline::EncodeRequest(Signal::kLogs, routes, req, SIZE_MAX, batches, [](pipeline::Batch*) {});
  std::string block;
  for (auto _ : state) {
    block.clear();
    benchmark::DoNotOptimize(clickhouse::RowBinaryToNative(routes.plans[0].columns, batches[0].rows,
                                                           batches[0].row_count, &block));
  }
  state.SetItemsProcessed(state.iterations() * 1000);
  state.SetBytesProcessed(state.iterations() * batches[0].rows.size());
}
BENCHMARK(BM_RowBinaryToNative);

// Sink: a batch's RowBinary rows (1000 loadgen log records, 18.16's layout) in ClickHouse's
// compressed frames, as sent with decompress=1. Counters: bytes on the wire per row.
void BM_CompressRows(benchmark::State& state) {
  const std::string& req = Request(Signal::kLogs);
  pipeline::Routes routes = RoutesOf("otel-logs.json", true);
  std::vector<pipeline::Batch> batches(1);
  pipeline::EncodeRequest(Signal::kLogs, routes, req, SIZE_MAX, batches, [](pipeline::Batch*) {});
  const auto codec = static_cast<clickhouse::Codec>(state.range(0));
  std::string framed;
  for (auto _ : state) {
    framed.clear();
    clickhouse::AppendFrames(codec, batches[0].rows, &framed);
    benchmark::DoNotOptimize(framed.data());
  }
  state.SetItemsProcessed(state.iterations() * 1000);
  state.SetBytesProcessed(state.iterations() * batches[0].rows.size());
  state.counters["raw_bytes_per_row"] = static_cast<double>(batches[0].rows.size()) / 1000;
  state.counters["wire_bytes_per_row"] = static_cast<double>(framed.size()) / 1000;
}
BENCHMARK(BM_CompressRows)
    ->Arg(static_cast<int>(clickhouse::Codec::kLz4))
    ->Arg(static_cast<int>(clickhouse::Codec::kZstd));

void BM_FlattenToJson(benchmark::State& state) {
  const std::string& req = Logs();
  std::string out;
  for (auto _ : state) {
    out.clear();
    otlp::ForEachRecord(Signal::kLogs, req, [&](const otlp::RecordCtx& c) {
      otlp::AppendRecordJson(Signal::kLogs, c, &out);
    });
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_FlattenToJson);

void BM_JsonToProto(benchmark::State& state) {
  const std::string& json = Request(Signal::kLogs, loadgen::Encoding::kJson);
  std::string out;
  for (auto _ : state) {
    out.clear();
    benchmark::DoNotOptimize(otlp::JsonToProto(Signal::kLogs, json, &out));
  }
  state.SetItemsProcessed(state.iterations() * 1000);
  state.SetBytesProcessed(state.iterations() * json.size());
}
BENCHMARK(BM_JsonToProto);

void BM_GzipInflate(benchmark::State& state) {
  const std::string& req = Logs();
  uLongf n = compressBound(req.size()) + 64;
  std::string gz(n, '\0');
  z_stream zs{};
  deflateInit2(&zs, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(req.data()));
  zs.avail_in = req.size();
  zs.next_out = reinterpret_cast<Bytef*>(gz.data());
  zs.avail_out = gz.size();
  deflate(&zs, Z_FINISH);
  gz.resize(zs.total_out);
  deflateEnd(&zs);
  for (auto _ : state) benchmark::DoNotOptimize(receivers::Decompress("gzip", gz, 64 << 20));
  state.SetItemsProcessed(state.iterations() * 1000);
  state.SetBytesProcessed(state.iterations() * req.size());
}
BENCHMARK(BM_GzipInflate);

// The log's checksum over one request (as on append, and again on read-back).
void BM_Crc32c(benchmark::State& state) {
  const std::string& req = Logs();
  for (auto _ : state) benchmark::DoNotOptimize(buffer::Crc32c(req));
  state.SetItemsProcessed(state.iterations() * 1000);
  state.SetBytesProcessed(state.iterations() * req.size());
}
BENCHMARK(BM_Crc32c);

// Durable appends of the benchmark request (1000 records) to a log on the local disk,
// fsync=always, from N threads (group commit shares fdatasyncs between them).
void BM_LogAppendFsync(benchmark::State& state) {
  const std::string dir = "/tmp/sluice-bench-log";
  std::filesystem::remove_all(dir);
  buffer::LogOptions o;
  o.dir = dir;
  auto log = buffer::LocalLog::Open(PosixFilesystem(), o);
  const std::string& req = Logs();
  const int threads = static_cast<int>(state.range(0));
  int64_t appended = 0;
  for (auto _ : state) {
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t)
      ts.emplace_back([&] {
        for (int i = 0; i < 8; ++i)
          benchmark::DoNotOptimize((*log)->Append(Signal::kLogs, 1000, req));
      });
    for (auto& t : ts) t.join();
    appended += threads * 8;
    state.PauseTiming();
    (void)(*log)->Read(1 << 20, SIZE_MAX);
    (void)(*log)->Ack((*log)->next_seq());
    state.ResumeTiming();
  }
  state.SetItemsProcessed(appended * 1000);
  state.SetBytesProcessed(appended * static_cast<int64_t>(req.size()));
  log->reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_LogAppendFsync)->Arg(1)->Arg(8)->UseRealTime();

// ---- transforms (issue 14): the stages alone, on the 1000 records of the logs request,
// and the encode path with each, to compare with BM_DecodeFlattenEncode/logs.

std::shared_ptr<const transform::Transforms> Compiled(const transform::TransformSpec& spec) {
  auto t = transform::Transforms::Compile(Signal::kLogs, spec);
  if (!t.ok()) std::abort();
  return *t;
}

constexpr const char* kTypicalFilter =
    "severity_number >= 9 and resource_attributes['deployment.environment'] == 'production' "
    "and attributes['http.route'] != '/healthz'";

transform::TransformSpec TypicalFilter(const char* expression = kTypicalFilter) {
  transform::TransformSpec s;
  s.filter = true;
  s.filter_expression = expression;
  return s;
}

transform::TransformSpec ThreeOutputs() {
  transform::TransformSpec s;
  s.stateless = true;
  s.outputs = {{"upper(severity_text)", "sev", "string"},
               {"resource_attributes['service.name']", "service", "string"},
               {"int(severity_number) * 10", "level", "int"}};
  return s;
}

void BM_Filter(benchmark::State& state) {
  const std::string& req = Logs();
  auto t = Compiled(TypicalFilter());
  transform::Transforms::Scratch s(Signal::kLogs);
  uint64_t kept = 0;
  for (auto _ : state) {
    s.record.NewRequest();
    otlp::ForEachRecord(Signal::kLogs, req, [&](const otlp::RecordCtx& c) {
      kept += t->Filter(c, s) == transform::Transforms::Verdict::kKeep;
    });
  }
  benchmark::DoNotOptimize(kept);
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_Filter);

void BM_Stateless3(benchmark::State& state) {
  const std::string& req = Logs();
  auto t = Compiled(ThreeOutputs());
  transform::Transforms::Scratch s(Signal::kLogs);
  for (auto _ : state)
    otlp::ForEachRecord(Signal::kLogs, req, [&](const otlp::RecordCtx& c) {
      if (!t->Stateless(c, s)) std::abort();
    });
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_Stateless3);

// The encode path of the logs example with a filter run first on every record (every
// record passes, so the rows encoded are BM_DecodeFlattenEncode/logs's).
void BM_EncodeWithFilter(benchmark::State& state, const char* expression) {
  const std::string& req = Logs();
  pipeline::Routes routes = RoutesOf("otel-logs.json");
  auto t = Compiled(TypicalFilter(expression));
  transform::Transforms::Scratch s(Signal::kLogs);
  pipeline::RecordHooks hooks;
  hooks.admit = [&](const otlp::RecordCtx& c, uint32_t, const otlp::Value**, transform::KeyAt*) {
    return t->Filter(c, s) == transform::Transforms::Verdict::kKeep;
  };
  hooks.release = [](const transform::KeyAt&, bool) {};
  std::vector<pipeline::Batch> batches(1);
  for (auto _ : state) {
    batches[0].rows.clear();
    batches[0].row_count = 0;
    s.record.NewRequest();
    pipeline::EncodeRequest(
        Signal::kLogs, routes, req, SIZE_MAX, batches, [](pipeline::Batch*) {}, 0, nullptr, nullptr,
        nullptr, nullptr, &hooks);
    benchmark::DoNotOptimize(batches[0].rows.data());
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK_CAPTURE(BM_EncodeWithFilter, typical, kTypicalFilter);
BENCHMARK_CAPTURE(BM_EncodeWithFilter, severity, "severity_number >= 9");
BENCHMARK_CAPTURE(BM_EncodeWithFilter, service, "resource_attributes['service.name'] != 'nope'");
BENCHMARK_CAPTURE(BM_EncodeWithFilter, attribute, "attributes['http.route'] != '/healthz' or true");

// Dedup look-ups in an index of state.range(0) keys whose pages were dropped from the page
// cache before the run (the index read from disk, as when it is larger than memory): half
// the probed keys are in the index.
void BM_DedupLookupCold(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const std::string dir = "/tmp/sluice-bench-dedup-" + std::to_string(n);
  std::filesystem::remove_all(dir);
  {
    auto idx = transform::DedupIndex::Open(dir, 8ull << 30);
    if (!idx.ok()) std::abort();
    std::vector<transform::KeyAt> batch;
    for (size_t i = 0; i < n; ++i) {
      batch.push_back({transform::HashKey(std::to_string(i)), i, 0});
      if (batch.size() == 100000 || i + 1 == n) {
        if (!(*idx)->Commit(batch, INT64_MAX).ok()) std::abort();
        batch.clear();
      }
    }
  }
  // Closed (unmapped): its pages can leave the page cache.
  if (int fd = ::open((dir + "/data.mdb").c_str(), O_RDONLY); fd >= 0) {
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    state.counters["index_mib"] = static_cast<double>(::lseek(fd, 0, SEEK_END)) / (1 << 20);
    ::close(fd);
  }
  auto idx = transform::DedupIndex::Open(dir, 8ull << 30);
  pipeline::DedupStage stage(*idx, std::chrono::hours(1));
  std::mt19937_64 rng(1);
  uint64_t seq = n, dups = 0;
  for (auto _ : state) {
    auto snap = stage.Snapshot();
    for (int i = 0; i < 1000; ++i) {
      const uint64_t k = rng() % (2 * n);  // half present, half new
      const transform::KeyAt key{transform::HashKey(std::to_string(k)), ++seq, 0};
      if (!stage.Admit(key, *snap, 0))
        ++dups;
      else
        stage.Release(std::span(&key, 1));
    }
  }
  benchmark::DoNotOptimize(dups);
  state.SetItemsProcessed(state.iterations() * 1000);
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_DedupLookupCold)
    ->Arg(1000000)
    ->Arg(4000000)
    ->Iterations(200)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace sluice

BENCHMARK_MAIN();
