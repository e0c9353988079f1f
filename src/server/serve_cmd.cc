// `sluice serve`: the receivers, the admin listener and the pipelines, until SIGTERM.
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <thread>
#include <tuple>

#include "control/controller.h"
#include "core/cat.h"
#include "core/executor.h"
#include "core/log.h"
#include "pipeline/registry.h"
#include "pipeline/watchdog.h"
#include "receivers/grpc_server.h"
#include "receivers/http_server.h"
#include "server/admin.h"
#include "server/commands.h"
#include "server/config.h"
#include "server/pipeline_dir.h"

namespace sluice::server {
namespace {

// <data_dir>/sluice.pid while the server runs.
class PidFile {
 public:
  explicit PidFile(const std::string& data_dir) : path_(PidFilePath(data_dir)) {
    std::error_code ec;
    std::filesystem::create_directories(data_dir, ec);
    std::ofstream out(path_, std::ios::trunc);
    out << getpid() << "\n";
    if (!out) {
      SLOG(WARN) << "cannot write " << path_ << ": `sluice reload` will not find this server";
      path_.clear();
    }
  }
  ~PidFile() {
    if (!path_.empty()) std::remove(path_.c_str());
  }

 private:
  std::string path_;
};

// Logs, for each pipeline whose figures moved since the last call, what went in and out
// and what is waiting.
class ProgressLog {
 public:
  void Log(const pipeline::Registry& registry) {
    std::map<std::string, Figures> now;
    for (const auto& p : registry.List()) {
      const auto& st = p->stats();
      Figures f{st.records_accepted.load(), st.rows_inserted.load(), st.rows_dead_lettered.load()};
      const Figures& was = last_[p->config().id];
      if (f.in != was.in || f.out != was.out || f.dead != was.dead) {
        const auto snap = p->TakeSnapshot();
        SLOG(INFO) << "pipeline " << p->config().id << ": +" << (f.in - was.in) << " records in, +"
                   << (f.out - was.out) << " rows written, +" << (f.dead - was.dead)
                   << " dead letters in the last minute; " << snap.buffer.unacked_records
                   << " records (" << snap.buffer.unacked_bytes << " bytes) waiting";
      }
      now[p->config().id] = f;
    }
    last_ = std::move(now);
  }

 private:
  struct Figures {
    uint64_t in = 0, out = 0, dead = 0;
  };
  std::map<std::string, Figures> last_;
};

// A receiver reachable from other machines without TLS or credentials is allowed (inside a
// trusted network it is the usual set-up) but said once, loudly.
void WarnIfExposed(const ServerConfig& c) {
  for (const auto& [name, address, tls] :
       {std::tuple{"OTLP/HTTP", c.http.address, c.http.tls.enabled()},
        std::tuple{"OTLP/gRPC", c.grpc.address, c.grpc.tls.enabled()}}) {
    if (IsLoopback(address)) continue;
    if (!tls)
      SLOG(WARN) << name << " listens on " << address
                 << " without TLS: records and credentials cross the network in clear";
    if (!c.auth->enabled())
      SLOG(WARN) << name << " listens on " << address
                 << " without credentials (auth): anyone who reaches it can write to any "
                    "pipeline";
  }
}

}  // namespace

std::string PidFilePath(const std::string& data_dir) { return data_dir + "/sluice.pid"; }

int RunServe(const ServeOptions& o) {
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

  auto cfg = LoadConfig(o.config);
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
    cfg->grpc.max_connections = std::max(16, std::min(cfg->grpc.max_connections, half));
    SLOG(INFO) << "file descriptors: " << lim.rlim_cur << " (HTTP connections up to "
               << cfg->http.max_connections << ", gRPC up to " << cfg->grpc.max_connections << ")";
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
  // Credentials, replaced on `sluice reload`.
  receivers::AuthHolder auth(cfg->auth);
  receivers::AuthHolder admin_auth(receivers::Authenticator::SingleToken(cfg->admin_token));
  WarnIfExposed(*cfg);
  receivers::HttpRoutes otlp_routes = OtlpHealthRoutes(registry);
  otlp_routes.auth = &auth;
  receivers::HttpServer http(cfg->http, registry, budget, otlp_routes);
  receivers::GrpcServer grpc(cfg->grpc, registry, budget, &auth);
  control::ControllerOptions copts;
  copts.data_dir = cfg->data_dir;
  copts.pipelines_dir = cfg->pipelines_dir;
  control::Controller controller(registry, copts);
  std::unique_ptr<receivers::HttpServer> admin;
  if (cfg->admin_enabled) {
    if (cfg->admin_token.empty())
      SLOG(INFO)
          << "admin listener (REST API, metrics) on " << cfg->admin.address
          << " without a token: it must stay on loopback (admin.token, token_env or token_file "
             "and admin.tls expose it)";
    receivers::HttpRoutes admin_routes = AdminRoutes(registry, controller);
    admin_routes.auth = &admin_auth;
    admin = std::make_unique<receivers::HttpServer>(cfg->admin, registry, budget, admin_routes);
  }
  Status s = http.Start();
  if (s.ok()) s = grpc.Start();
  if (s.ok() && admin) s = admin->Start();
  if (!s.ok()) {
    SLOG(ERROR) << s.message();
    return 1;
  }
  // `sluice reload` finds the server through this file.
  PidFile pid_file(cfg->data_dir);
  controller.Load();  // the REST API's pipelines, then the pipelines directory
  registry.set_loaded();
  http.set_ready(true);
  if (admin) admin->set_ready(true);
  grpc.set_serving(true);
  SLOG(INFO) << "sluice serving OTLP/gRPC on " << cfg->grpc.address << ":" << grpc.port()
             << " and OTLP/HTTP on " << cfg->http.address << ":" << http.port() << " ("
             << registry.List().size() << " pipelines from " << cfg->pipelines_dir << ")"
             << (admin
                     ? Cat("; admin (metrics, status) on ", cfg->admin.address, ":", admin->port())
                     : std::string());

  ProgressLog progress;
  while (true) {
    // A progress line per pipeline that moved, every minute (the wait for a signal times
    // out then).
    const timespec minute{60, 0};
    const int sig = sigtimedwait(&set, nullptr, &minute);
    if (sig < 0) {
      progress.Log(registry);
      continue;
    }
    if (sig == SIGHUP) {
      SLOG(INFO) << "SIGHUP: reloading pipelines from " << cfg->pipelines_dir
                 << " (failed pipelines try again), credentials and TLS certificates";
      (void)controller.Reload();
      // Credentials from the config file again (listeners, directories and limits need a
      // restart); a file that no longer loads keeps the credentials in force.
      if (auto fresh = LoadConfig(o.config); fresh.ok()) {
        auth.Set(fresh->auth);
        // The running admin listener's address decides: off loopback it keeps a token.
        if (fresh->admin_token.empty() && !cfg->admin_token.empty() &&
            !IsLoopback(cfg->admin.address))
          SLOG(ERROR) << "keeping the admin token: the admin listener on " << cfg->admin.address
                      << " is off loopback and the config no longer gives one";
        else
          admin_auth.Set(receivers::Authenticator::SingleToken(fresh->admin_token));
      } else {
        SLOG(ERROR) << "keeping the credentials in force: " << fresh.status().message();
      }
      http.RefreshTls(true);
      grpc.RefreshTls(true);
      if (admin) admin->RefreshTls(true);
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
  if (admin) admin->set_ready(false);
  grpc.Stop();
  http.Stop();
  if (admin) admin->Stop();
  registry.DrainAppends();  // their answers go to the receivers, which are destroyed first
  controller.Shutdown();    // drains in progress stop now; what is left stays buffered
  registry.StopAll();
  SLOG(INFO) << "stopped";
  return 0;
}

}  // namespace sluice::server
