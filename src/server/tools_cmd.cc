// The data tools: `sluice flatten` and `sluice encode` (what the receivers and the sink do
// to one request, on stdin).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "clickhouse/native.h"
#include "core/cat.h"
#include "otlp/fields.h"
#include "otlp/request.h"
#include "pipeline/batch_encoder.h"
#include "pipeline/config.h"
#include "server/commands.h"
#include "transform/transforms.h"

namespace sluice::server {
namespace {

std::string ReadAll(std::istream& in) {
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Reads a request from stdin, transcoding JSON and canonicalizing as the receivers do.
StatusOr<std::string> ReadRequest(Signal signal, bool json) {
  auto d = otlp::DecodeRequest(signal, ReadAll(std::cin), json);
  if (!d.ok()) return d.status();
  return std::move(d->proto);
}

}  // namespace

int RunFlatten(const FlattenOptions& o) {
  auto sig = SignalFromSourceType("otlp." + o.signal);
  if (!sig) {
    std::fprintf(stderr, "error: --signal must be logs, metrics or traces\n");
    return 2;
  }
  auto req = ReadRequest(*sig, o.json);
  if (!req.ok()) return Fail(req.status());
  std::string out;
  otlp::ForEachRecord(*sig, *req, [&](const otlp::RecordCtx& ctx) {
    otlp::AppendRecordJson(*sig, ctx, &out);
    out.push_back('\n');
  });
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

int RunEncode(const EncodeOptions& o) {
  std::ifstream pf(o.pipeline), cf(o.columns);
  if (!pf || !cf) {
    std::fprintf(stderr, "error: cannot read %s\n", (!pf ? o.pipeline : o.columns).c_str());
    return 1;
  }
  auto p = pipeline::ParsePipeline(ReadAll(pf));
  if (!p.ok()) return Fail(p.status());
  auto cols = clickhouse::ParseDescribe(ReadAll(cf));
  if (!cols.ok()) return 1;
  auto plan = clickhouse::BuildPlan(p->signal, p->sink.mapping, *cols, p->sink.endpoint.database,
                                    p->sink.table, nullptr, p->outputs);
  if (!plan.ok()) return Fail(plan.status());
  auto req = ReadRequest(p->signal, o.json);
  if (!req.ok()) return Fail(req.status());
  pipeline::Routes routes;
  routes.tables.push_back(p->sink.table);
  routes.plans.push_back(*plan);
  std::vector<pipeline::Batch> batches(1);
  // The transforms as a pipeline runs them; dedup within this request (no index: a key
  // is a duplicate of an earlier record of the input).
  std::shared_ptr<const transform::Transforms> tf;
  if (!p->transforms.empty()) {
    auto t = transform::Transforms::Compile(p->signal, p->transforms);
    if (!t.ok()) return Fail(t.status());
    tf = *t;
  }
  transform::Transforms::Scratch scratch(p->signal);
  scratch.record.NewRequest();
  std::set<std::pair<uint64_t, uint64_t>> seen;
  uint64_t filtered = 0, failed = 0, duplicates = 0;
  pipeline::RecordHooks hooks;
  hooks.admit = [&](const otlp::RecordCtx& ctx, uint32_t, const otlp::Value** outputs,
                    transform::KeyAt* key) {
    if (tf->filters()) {
      const auto v = tf->Filter(ctx, scratch);
      if (v != transform::Transforms::Verdict::kKeep) {
        (v == transform::Transforms::Verdict::kDrop ? filtered : failed)++;
        if (v != transform::Transforms::Verdict::kDrop)
          std::fprintf(stderr, "dead letter: %s\n", scratch.why.c_str());
        return false;
      }
    }
    if (tf->dedups() && tf->Key(ctx, scratch, &key->key) &&
        !seen.insert({key->key.lo, key->key.hi}).second) {
      ++duplicates;
      return false;
    }
    if (tf->stateless()) {
      if (!tf->Stateless(ctx, scratch)) {
        ++failed;
        std::fprintf(stderr, "dead letter: %s\n", scratch.why.c_str());
        return false;
      }
      *outputs = scratch.outputs.data();
    }
    return true;
  };
  hooks.release = [](const transform::KeyAt&, bool) {};
  auto st = pipeline::EncodeRequest(
      p->signal, routes, *req, SIZE_MAX, batches, [](pipeline::Batch*) {}, 0, nullptr, nullptr,
      nullptr, nullptr, tf ? &hooks : nullptr);
  if (tf)
    std::fprintf(stderr, "transforms: %llu filtered out, %llu duplicates, %llu dead letters\n",
                 static_cast<unsigned long long>(filtered),
                 static_cast<unsigned long long>(duplicates),
                 static_cast<unsigned long long>(failed));
  const pipeline::Batch& batch = batches[0];
  if (st.rejected > 0)
    std::fprintf(stderr, "rejected %llu rows: %s\n", static_cast<unsigned long long>(st.rejected),
                 st.first_error.c_str());
  std::string structure;
  for (const auto& c : plan->columns) {
    if (!structure.empty()) structure += ", ";
    structure += clickhouse::QuoteIdent(c.column) + " " + c.type.text;
  }
  std::fprintf(stderr, "structure: %s\n", structure.c_str());
  if (o.native) {  // the block the sink sends
    std::string block;
    Status s = clickhouse::RowBinaryToNative(plan->columns, batch.rows, batch.row_count, &block);
    if (!s.ok()) return Fail(s);
    std::fwrite(block.data(), 1, block.size(), stdout);
    return 0;
  }
  std::fwrite(batch.rows.data(), 1, batch.rows.size(), stdout);
  return 0;
}

}  // namespace sluice::server
