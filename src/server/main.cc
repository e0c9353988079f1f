// sluice: the server and its tools. The command line is parsed here (CLI11); each command
// is a function in src/server/*_cmd.cc. The only place that exits the process, apart from
// the shutdown deadline of `serve`.
#include <absl/synchronization/mutex.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "core/version.h"
#include "server/commands.h"

namespace {

constexpr const char* kConfigHelp =
    "server config file (YAML or JSON); without it, defaults and SLUICE_* variables";

}  // namespace

int main(int argc, char** argv) {
  using namespace sluice::server;
  // A peer that closes a connection (ClickHouse, an OTLP client) is an error on the write,
  // never a signal: every command talks to servers.
  std::signal(SIGPIPE, SIG_IGN);
  // Debian's Abseil is built with assertions on, so every absl::Mutex lock (gRPC takes several
  // per call) feeds a lock-order graph for deadlock detection: 1.5 % of the CPU with small
  // requests, measured in the receivers' profile. Our code does not use absl::Mutex.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  CLI::App app{
      "Sluice: OpenTelemetry (OTLP) into ClickHouse, with a durable buffer.\n"
      "Run `sluice <command> --help` for a command's flags.",
      "sluice"};
  app.set_version_flag("--version", std::string("sluice ") + sluice::kVersion);
  app.require_subcommand(1);
  app.fallthrough(false);

  ServeOptions serve;
  auto* serve_cmd = app.add_subcommand(
      "serve",
      "Run the OTLP receivers (gRPC 4317, HTTP 4318), the admin listener (8081) and "
      "the pipelines in the pipelines directory, until SIGTERM or SIGINT.");
  serve_cmd->add_option("-c,--config", serve.config, kConfigHelp);

  ValidateOptions validate;
  auto* validate_cmd = app.add_subcommand(
      "validate", "Check pipeline files as the server loads them and print every problem.");
  validate_cmd->add_option("files", validate.files, "pipeline files (.json, .yaml, .yml)");
  validate_cmd->add_option("--pipelines", validate.pipelines_dir,
                           "check every file of this directory (default: the config's "
                           "pipelines_dir, when no files are given)");
  validate_cmd->add_flag("--check-clickhouse", validate.check_clickhouse,
                         "also read each pipeline's tables and check its mapping against them");
  validate_cmd->add_option("-c,--config", validate.config, kConfigHelp);

  StatusOptions status;
  auto* status_cmd = app.add_subcommand(
      "status", "Print the pipelines of a running server with their state and figures.");
  status_cmd->add_option("--admin", status.admin,
                         "the admin listener as host:port (default: the config's, "
                         "127.0.0.1:8081)");
  status_cmd->add_flag("--json", status.json, "print the admin listener's JSON as it is");
  status_cmd->add_option("-c,--config", status.config, kConfigHelp);

  ReloadOptions reload;
  auto* reload_cmd =
      app.add_subcommand("reload",
                         "Make a running server read its pipeline files again and restart failed "
                         "pipelines now (SIGHUP to the pid in <data_dir>/sluice.pid).");
  reload_cmd->add_option("--data-dir", reload.data_dir,
                         "the server's data directory "
                         "(default: the config's, .data)");
  reload_cmd->add_option("-c,--config", reload.config, kConfigHelp);

  // The REST API's commands: one request each to a running server's admin listener.
  ApiCommand api;
  auto api_flags = [&](CLI::App* c, const std::string& verb) {
    c->add_option("--admin", api.admin,
                  "the admin listener as host:port (default: the config's, 127.0.0.1:8081)");
    c->add_option("-c,--config", api.config, kConfigHelp);
    c->add_flag("--json", api.json, "print the API's JSON as it is");
    c->callback([&api, verb] { api.verb = verb; });
  };
  auto* pipeline_cmd = app.add_subcommand(
      "pipeline",
      "Manage pipelines through the REST API of a running server (GlassFlow's API; the "
      "token comes from the config or SLUICE_ADMIN_TOKEN).");
  pipeline_cmd->require_subcommand(1);
  for (const auto& [verb, help] : std::vector<std::pair<std::string, std::string>>{
           {"create", "Create a pipeline from a v3 document (JSON or YAML)"},
           {"list", "List the pipelines with their status and figures"},
           {"get", "Print a pipeline's v3 document"},
           {"health", "Print a pipeline's status and figures"},
           {"stop", "Stop after its buffer has drained into ClickHouse"},
           {"terminate", "Stop at once (the buffer is kept)"},
           {"resume", "Resume a Stopped or Failed pipeline from its buffer"},
           {"edit", "Replace a Stopped or Failed pipeline's document (it resumes)"},
           {"delete", "Delete a Stopped or Failed pipeline, its buffer and dead letters"}}) {
    CLI::App* c = pipeline_cmd->add_subcommand(verb, help);
    if (verb != "list" && verb != "create") c->add_option("id", api.id, "pipeline id")->required();
    if (verb == "create" || verb == "edit")
      c->add_option("-f,--file", api.file, "the pipeline document")->required();
    if (verb == "create" || verb == "edit" || verb == "stop" || verb == "terminate" ||
        verb == "resume")
      c->add_option("--wait", api.wait_seconds,
                    "wait up to this many seconds for the final status (Running or Stopped)");
    api_flags(c, verb);
  }

  DlqOptions dlq;
  auto* dlq_cmd = app.add_subcommand(
      "dlq",
      "A pipeline's dead letters: `dlq --pipeline ID` prints them from the data directory "
      "(safe while the server runs); `dlq state|consume|purge|list|reprocess ID` asks the "
      "server's REST API.");
  dlq_cmd->require_subcommand(0, 1);
  for (const auto& [verb, help] : std::vector<std::pair<std::string, std::string>>{
           {"state", "Counts and times"},
           {"consume", "Print and remove up to --batch-size dead letters (JSON lines)"},
           {"purge", "Remove every dead letter"},
           {"list", "Print a page of dead letters without removing them"},
           {"reprocess",
            "Send dead letters through the pipeline again (after fixing the table)"}}) {
    CLI::App* c = dlq_cmd->add_subcommand(verb, help);
    c->add_option("id", api.id, "pipeline id")->required();
    if (verb == "consume" || verb == "list")
      c->add_option("--batch-size", api.batch_size, "how many (1-1000)")
          ->check(CLI::Range(1, 1000));
    if (verb == "list") {
      c->add_option("--cursor", api.cursor, "start at this message id (a page's next cursor)");
      c->add_option("--component", api.component, "only this component's (sink, worker)");
      c->add_option("--reason", api.reason, "only this reason's (schema_mismatch, ...)");
    }
    if (verb == "reprocess")
      c->add_option("--ids", api.ids, "only these message ids (default: all)")->delimiter(',');
    api_flags(c, verb);
  }
  dlq_cmd->add_option("--pipeline", dlq.pipeline, "pipeline id (reading the data directory)");
  dlq_cmd->add_flag("--summary", dlq.summary, "count the dead letters by reason instead");
  dlq_cmd->add_option("--data-dir", dlq.data_dir,
                      "the server's data directory (default: the "
                      "config's, .data)");
  dlq_cmd->add_option("-c,--config", dlq.config, kConfigHelp);

  FlattenOptions flatten;
  auto* flatten_cmd =
      app.add_subcommand("flatten",
                         "Read one OTLP export request on stdin and print its records flattened to "
                         "GlassFlow's schema, one JSON object per line.");
  flatten_cmd->add_option("--signal", flatten.signal, "logs, metrics or traces")
      ->required()
      ->check(CLI::IsMember({"logs", "metrics", "traces"}));
  flatten_cmd->add_flag("--json", flatten.json, "the request is OTLP/JSON (default: protobuf)");

  EncodeOptions encode;
  auto* encode_cmd = app.add_subcommand(
      "encode",
      "Read one OTLP export request on stdin and print the RowBinary rows (or the "
      "Native block) the sink would insert for a pipeline and a table.");
  encode_cmd->add_option("--pipeline", encode.pipeline, "pipeline file")->required();
  encode_cmd
      ->add_option("--columns", encode.columns,
                   "the table's columns: the output of DESCRIBE TABLE ... FORMAT "
                   "TabSeparated")
      ->required();
  encode_cmd->add_flag("--json", encode.json, "the request is OTLP/JSON (default: protobuf)");
  encode_cmd->add_flag("--native", encode.native, "print a Native block instead of RowBinary rows");

  app.add_subcommand("version", "Print the version.");

  if (argc == 1) {  // no command: never a server unless asked for
    std::fputs(app.help().c_str(), stderr);
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help, the version, or the error with a hint
    return code == 0 ? 0 : 2;
  }
  if (*serve_cmd) return RunServe(serve);
  if (*validate_cmd) return RunValidate(validate);
  if (*status_cmd) return RunStatus(status);
  if (*reload_cmd) return RunReload(reload);
  if (*pipeline_cmd) return RunPipeline(api);
  if (*dlq_cmd) {
    if (dlq_cmd->get_subcommands().empty()) {
      if (dlq.pipeline.empty()) {
        std::fputs("error: --pipeline, or one of state|consume|purge|list|reprocess\n", stderr);
        return 2;
      }
      return RunDlq(dlq);
    }
    return RunDlqApi(api);
  }
  if (*flatten_cmd) return RunFlatten(flatten);
  if (*encode_cmd) return RunEncode(encode);
  std::printf("sluice %s\n", sluice::kVersion);
  return 0;
}
