// The data tools: `sluice flatten` and `sluice encode` (what the receivers and the sink do
// to one request, on stdin).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "clickhouse/native.h"
#include "core/cat.h"
#include "otlp/fields.h"
#include "otlp/request.h"
#include "pipeline/batch_encoder.h"
#include "pipeline/config.h"
#include "server/commands.h"

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
  auto st =
      pipeline::EncodeRequest(p->signal, routes, *req, SIZE_MAX, batches, [](pipeline::Batch*) {});
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
