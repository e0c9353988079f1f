// Micro-benchmarks of the hot path: validate, decode + flatten + RowBinary encode per signal,
// OTLP/JSON transcoding, gzip inflate and the durable append, on the load generator's
// requests (1000 records; logs of ~330 bytes with 8 attributes). Run with `make bench`.
#include <benchmark/benchmark.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <map>
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
#include "receivers/decompress.h"

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

}  // namespace
}  // namespace sluice

BENCHMARK_MAIN();
