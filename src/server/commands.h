// The `sluice` commands, one function each, called by main() after the command line is
// parsed (src/server/main.cc). Each returns the process's exit code: 0 success, 1 failure,
// 2 a usage error.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "server/config.h"

namespace sluice::server {

struct ServeOptions {
  std::string config;
};
int RunServe(const ServeOptions& o);

struct ValidateOptions {
  std::string config;
  std::string pipelines_dir;       // empty: the config's (unless files are given)
  std::vector<std::string> files;  // given files instead of a directory
  bool check_clickhouse = false;
};
int RunValidate(const ValidateOptions& o);

struct StatusOptions {
  std::string config;
  std::string admin;  // host:port; empty: from the config
  bool json = false;
};
int RunStatus(const StatusOptions& o);

struct ReloadOptions {
  std::string config;
  std::string data_dir;  // empty: from the config
};
int RunReload(const ReloadOptions& o);

struct DlqOptions {
  std::string config;
  std::string data_dir;
  std::string pipeline;
  bool summary = false;
};
int RunDlq(const DlqOptions& o);

// `sluice pipeline <verb>` and `sluice dlq <verb>`: calls to the REST API.
struct ApiCommand {
  std::string config;
  std::string admin;  // host:port; empty: the config's
  std::string verb;
  std::string id;
  std::string file;      // create, edit
  bool json = false;     // print the API's JSON
  int wait_seconds = 0;  // stop, terminate, resume, create, edit: wait for the final status
  int batch_size = 100;  // dlq consume, list
  std::string cursor, component, reason;  // dlq list
  std::vector<uint64_t> ids;              // dlq reprocess: these message ids (else all)
};
int RunPipeline(const ApiCommand& o);
int RunDlqApi(const ApiCommand& o);

struct FlattenOptions {
  std::string signal;
  bool json = false;
};
int RunFlatten(const FlattenOptions& o);

struct EncodeOptions {
  std::string pipeline, columns;
  bool json = false, native = false;
};
int RunEncode(const EncodeOptions& o);

// Prints "error: <message>" on stderr and returns 1, a failed command's exit code.
int Fail(const Status& s);
// A tool's directory flag: `given` when set, else that setting (`field`) of the server config
// at `config_path` (defaults and SLUICE_* variables when that is empty too).
StatusOr<std::string> FlagOrConfig(const std::string& given, const std::string& config_path,
                                   std::string ServerConfig::*field);

// Where `sluice serve` writes its process id: <data_dir>/sluice.pid.
std::string PidFilePath(const std::string& data_dir);

}  // namespace sluice::server
