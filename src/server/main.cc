// sluice: the server and its small tools.
//   sluice serve [--config FILE]            run the receivers and pipelines
//   sluice flatten --signal S [--json]      OTLP request on stdin -> flattened JSON lines
//   sluice dlq --pipeline ID [--data-dir DIR]
//                                           print a pipeline's dead-letter queue (JSON lines)
//   sluice encode --pipeline P --columns C [--json] [--native]
//                                           OTLP request on stdin -> RowBinary on stdout
//                                           for the pipeline's mapping against the table
//                                           columns in C (DESCRIBE TABLE TabSeparated)
// The only place that exits the process.
#include <signal.h>
#include <sys/resource.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "buffer/local_log.h"
#include "clickhouse/native.h"
#include "core/executor.h"
#include "core/fs.h"
#include "core/log.h"
#include "otlp/fields.h"
#include "otlp/request.h"
#include "pipeline/batch_encoder.h"
#include "pipeline/config.h"
#include "pipeline/registry.h"
#include "pipeline/watchdog.h"
#include "receivers/grpc_server.h"
#include "receivers/http_server.h"
#include "server/config.h"
#include "server/pipeline_dir.h"

namespace sluice {
namespace {

std::string ReadAll(std::istream& in) {
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string ArgValue(const std::vector<std::string>& args, const std::string& name) {
  for (size_t i = 0; i + 1 < args.size(); ++i)
    if (args[i] == name) return args[i + 1];
  return "";
}
bool HasFlag(const std::vector<std::string>& args, const std::string& name) {
  for (const auto& a : args)
    if (a == name) return true;
  return false;
}

int Usage() {
  std::fprintf(
      stderr,
      "usage: sluice serve [--config FILE]\n"
      "       sluice flatten --signal logs|metrics|traces [--json] < request\n"
      "       sluice encode --pipeline FILE --columns FILE [--json] [--native] < request > rows\n"
      "       sluice dlq --pipeline ID [--data-dir DIR | --config FILE]\n");
  return 2;
}

// Reads a request from stdin, transcoding JSON and canonicalizing as the receivers do.
StatusOr<std::string> ReadRequest(Signal signal, bool json) {
  auto d = otlp::DecodeRequest(signal, ReadAll(std::cin), json);
  if (!d.ok()) return d.status();
  return std::move(d->proto);
}

int Flatten(const std::vector<std::string>& args) {
  auto sig = SignalFromSourceType("otlp." + ArgValue(args, "--signal"));
  if (!sig) return Usage();
  auto req = ReadRequest(*sig, HasFlag(args, "--json"));
  if (!req.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(req.status().message()).c_str());
    return 1;
  }
  std::string out;
  otlp::ForEachRecord(*sig, *req, [&](const otlp::RecordCtx& ctx) {
    otlp::AppendRecordJson(*sig, ctx, &out);
    out.push_back('\n');
  });
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

int Encode(const std::vector<std::string>& args) {
  std::ifstream pf(ArgValue(args, "--pipeline")), cf(ArgValue(args, "--columns"));
  if (!pf || !cf) return Usage();
  auto p = pipeline::ParsePipeline(ReadAll(pf));
  if (!p.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(p.status().message()).c_str());
    return 1;
  }
  auto cols = clickhouse::ParseDescribe(ReadAll(cf));
  if (!cols.ok()) return 1;
  auto plan = clickhouse::BuildPlan(p->signal, p->sink.mapping, *cols, p->sink.endpoint.database,
                                    p->sink.table);
  if (!plan.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(plan.status().message()).c_str());
    return 1;
  }
  auto req = ReadRequest(p->signal, HasFlag(args, "--json"));
  if (!req.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(req.status().message()).c_str());
    return 1;
  }
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
  if (HasFlag(args, "--native")) {  // the block the sink sends
    std::string block;
    Status s = clickhouse::RowBinaryToNative(plan->columns, batch.rows, batch.row_count, &block);
    if (!s.ok()) {
      std::fprintf(stderr, "error: %s\n", std::string(s.message()).c_str());
      return 1;
    }
    std::fwrite(block.data(), 1, block.size(), stdout);
    return 0;
  }
  std::fwrite(batch.rows.data(), 1, batch.rows.size(), stdout);
  return 0;
}

int Dlq(const std::vector<std::string>& args) {
  const std::string id = ArgValue(args, "--pipeline");
  if (id.empty()) return Usage();
  std::string data_dir = ArgValue(args, "--data-dir");
  if (data_dir.empty()) {
    auto cfg = server::LoadConfig(ArgValue(args, "--config"));
    if (!cfg.ok()) {
      std::fprintf(stderr, "error: %s\n", std::string(cfg.status().message()).c_str());
      return 1;
    }
    data_dir = cfg->data_dir;
  }
  const std::string dir = data_dir + "/pipelines/" + id + "/dlq";
  if (!PosixFilesystem()->Exists(dir)) {
    std::fprintf(stderr, "no dead-letter queue for pipeline '%s' in %s\n", id.c_str(),
                 data_dir.c_str());
    return 1;
  }
  Status s = buffer::ScanLog(PosixFilesystem(), dir, [](const buffer::Entry& e) {
    std::fwrite(e.payload.data(), 1, e.payload.size(), stdout);
    std::fputc('\n', stdout);
  });
  if (!s.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}

int Serve(const std::vector<std::string>& args) {
  // Signals are taken by sigwait on this thread only. A shell may start us with SIGINT
  // ignored (background jobs); reset so that Ctrl-C and kill -INT still stop cleanly.
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  signal(SIGHUP, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto cfg = server::LoadConfig(ArgValue(args, "--config"));
  if (!cfg.ok()) {
    SLOG(ERROR) << cfg.status().message();
    return 1;
  }
  // Descriptors: the soft limit is often 1024 while the hard one is far higher; take all
  // that is allowed, and keep half of it for connections (the rest: buffers, ClickHouse).
  if (rlimit lim{}; getrlimit(RLIMIT_NOFILE, &lim) == 0) {
    if (lim.rlim_cur < lim.rlim_max) {
      rlimit raised = lim;
      raised.rlim_cur = lim.rlim_max;
      if (setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
    }
    const auto half = static_cast<int>(std::min<rlim_t>(lim.rlim_cur / 2, 1 << 20));
    cfg->http.max_connections = std::max(16, std::min(cfg->http.max_connections, half));
    SLOG(INFO) << "file descriptors: " << lim.rlim_cur << " (HTTP connections up to "
               << cfg->http.max_connections << ")";
  }
  if (cfg->log_level == "debug")
    SetLogLevel(LogLevel::kDebug);
  else if (cfg->log_level == "warn")
    SetLogLevel(LogLevel::kWarn);
  else if (cfg->log_level == "error")
    SetLogLevel(LogLevel::kError);

  pipeline::Watchdog::Get();  // also trims the heap every 10 s
  Executor::Commits();        // the durable logs' commit threads, started with the server
  pipeline::Registry registry(cfg->limits);
  // Request bodies in memory, both receivers together; at least two of the largest.
  receivers::RequestBudget budget(
      std::max<uint64_t>(cfg->request_memory, 2 * cfg->http.max_body_bytes));
  receivers::HttpServer http(cfg->http, registry, budget);
  receivers::GrpcServer grpc(cfg->grpc, registry, budget);
  Status s = http.Start();
  if (s.ok()) s = grpc.Start();
  if (!s.ok()) {
    SLOG(ERROR) << s.message();
    return 1;
  }
  (void)server::SyncPipelineDir(cfg->pipelines_dir, registry);
  registry.set_loaded();
  http.set_ready(true);
  grpc.set_serving(true);
  SLOG(INFO) << "sluice serving OTLP/gRPC on " << cfg->grpc.address << ":" << grpc.port()
             << " and OTLP/HTTP on " << cfg->http.address << ":" << http.port() << " ("
             << registry.List().size() << " pipelines from " << cfg->pipelines_dir << ")";

  while (true) {
    int sig = 0;
    sigwait(&set, &sig);
    if (sig == SIGHUP) {
      SLOG(INFO) << "SIGHUP: reloading pipelines from " << cfg->pipelines_dir;
      (void)server::SyncPipelineDir(cfg->pipelines_dir, registry);
      continue;
    }
    SLOG(INFO) << "signal " << sig << ": shutting down";
    break;
  }
  // Whatever is stuck (an entry still being encoded, an INSERT that does not return), the
  // process is gone by the shutdown timeout: everything acknowledged is in the durable log,
  // and an entry abandoned mid-way has its attempt counted (EntryGuard).
  std::thread([timeout = cfg->limits.shutdown_timeout] {
    std::this_thread::sleep_for(timeout);
    SLOG(ERROR) << "shutdown did not finish within " << timeout.count()
                << " ms; exiting with the unfinished work left in the buffer";
    std::_Exit(3);
  }).detach();
  http.set_ready(false);
  grpc.Stop();
  http.Stop();
  registry.DrainAppends();  // their answers go to the receivers, which are destroyed first
  registry.StopAll();
  SLOG(INFO) << "stopped";
  return 0;
}

}  // namespace
}  // namespace sluice

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return sluice::Usage();
  const std::string cmd = args[0];
  if (cmd == "serve") return sluice::Serve(args);
  if (cmd == "flatten") return sluice::Flatten(args);
  if (cmd == "encode") return sluice::Encode(args);
  if (cmd == "dlq") return sluice::Dlq(args);
  if (cmd == "version" || cmd == "--version") {
    std::printf("sluice 0.1.0\n");
    return 0;
  }
  return sluice::Usage();
}
