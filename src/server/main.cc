// sluice: the server and its tools. The command line is parsed here (CLI11); each command
// is a function in src/server/*_cmd.cc. The only place that exits the process, apart from
// the shutdown deadline of `serve`.
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>

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

  DlqOptions dlq;
  auto* dlq_cmd = app.add_subcommand(
      "dlq", "Print a pipeline's dead letters as JSON lines (safe while the server runs).");
  dlq_cmd->add_option("--pipeline", dlq.pipeline, "pipeline id")->required();
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
  if (*dlq_cmd) return RunDlq(dlq);
  if (*flatten_cmd) return RunFlatten(flatten);
  if (*encode_cmd) return RunEncode(encode);
  std::printf("sluice %s\n", sluice::kVersion);
  return 0;
}
