// `sluice pipeline ...` and the REST API's `sluice dlq ...` commands: each is one request to
// the admin listener's REST API, printed as a readable table or, with --json, as the API's
// JSON. Exit codes: 0 success, 1 the server refused (its message and field errors on
// stderr) or could not be reached, 2 a usage error.
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>

#include "control/document.h"
#include "core/cat.h"
#include "core/fs.h"
#include "server/admin_client.h"
#include "server/commands.h"

namespace sluice::server {
namespace {

using nlohmann::json;

struct Reply {
  int status = 0;
  json body;
};

// One call; false (after printing why) when it failed.
bool Call(const ApiCommand& o, const std::string& method, const std::string& path,
          const std::string& body, Reply* out) {
  auto target = ResolveAdminTarget(o.config, o.admin);
  if (!target.ok()) {
    Fail(target.status());
    return false;
  }
  auto r = AdminCall(*target, method, path, body, 60);
  if (!r.ok()) {
    Fail(r.status());
    return false;
  }
  out->status = r->status;
  out->body = r->body.empty() ? json() : json::parse(r->body, nullptr, false);
  if (r->status >= 300) {
    const json& b = out->body;
    const std::string message =
        b.is_object() ? b.value("message", r->body) : Cat("HTTP ", r->status, ": ", r->body);
    std::fprintf(
        stderr, "error: %s%s\n", message.c_str(),
        b.is_object() && b.contains("code") ? Cat(" (", b.value("code", ""), ")").c_str() : "");
    if (b.is_object() && b.contains("errors") && b["errors"].is_array())
      for (const json& e : b["errors"])
        std::fprintf(stderr, "  %s: %s\n", e.value("field", "").c_str(),
                     e.value("message", "").c_str());
    if (b.is_object() && b.contains("details") && b["details"].contains("valid_transitions"))
      std::fprintf(stderr, "  valid transitions: %s\n",
                   b["details"]["valid_transitions"].dump().c_str());
    return false;
  }
  return true;
}

std::string Str(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return "-";
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

void PrintJson(const json& j) { std::printf("%s\n", j.is_null() ? "" : j.dump(2).c_str()); }

int Usage(const char* what) {
  std::fprintf(stderr, "error: %s\n", what);
  return 2;
}

std::string PipelinePath(const std::string& id, const std::string& rest = "") {
  return Cat("/api/v1/pipeline/", id, rest);
}

// Polls the pipeline's health until its status is `want` (or 404 when want is empty).
int WaitFor(const ApiCommand& o, const std::string& want) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(o.wait_seconds);
  std::string last;
  while (std::chrono::steady_clock::now() < deadline) {
    auto target = ResolveAdminTarget(o.config, o.admin);
    if (!target.ok()) return Fail(target.status());
    auto r = AdminCall(*target, "GET", PipelinePath(o.id, "/health"));
    if (r.ok() && r->status == 404 && want.empty()) return 0;
    if (r.ok() && r->status == 200) {
      json h = json::parse(r->body, nullptr, false);
      last = Str(h, "overall_status");
      if (last == want) return 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  std::fprintf(stderr, "error: pipeline %s is %s after %d s, not %s\n", o.id.c_str(), last.c_str(),
               o.wait_seconds, want.c_str());
  return 1;
}

int PrintList(const json& list) {
  std::printf("%-40s %-13s %-12s %-6s %12s %12s %12s\n", "PIPELINE", "SOURCE", "STATUS", "FROM",
              "RECORDS IN", "ROWS OUT", "BUFFERED");
  for (const json& p : list) {
    const json stats = p.value("stats", json::object());
    std::printf("%-40s %-13s %-12s %-6s %12s %12s %12s\n", Str(p, "pipeline_id").c_str(),
                Str(p, "source_type").c_str(), Str(p, "status").c_str(),
                Str(p, "managed_by").c_str(), Str(stats, "records_in").c_str(),
                Str(stats, "rows_written").c_str(),
                Str(stats.value("buffer", json::object()), "records").c_str());
  }
  return 0;
}

int PrintHealth(const json& h) {
  for (const char* k : {"pipeline_id", "pipeline_name", "overall_status", "source_type",
                        "managed_by", "file", "created_at", "updated_at"})
    if (h.contains(k)) std::printf("%-16s %s\n", k, Str(h, k).c_str());
  if (h.contains("stats")) {
    const json& s = h["stats"];
    std::printf("%-16s %s\n", "records_in", Str(s, "records_in").c_str());
    std::printf("%-16s %s\n", "rows_written", Str(s, "rows_written").c_str());
    std::printf("%-16s %s records, %s bytes\n", "buffered",
                Str(s.value("buffer", json::object()), "records").c_str(),
                Str(s.value("buffer", json::object()), "bytes").c_str());
    std::printf("%-16s %s\n", "dead_letters",
                s.value("dead_letters", json::object()).dump().c_str());
    if (s.contains("reason") && !s["reason"].is_null())
      std::printf("%-16s %s\n", "reason", Str(s, "reason").c_str());
  }
  return 0;
}

// The document of --file as JSON text (YAML files are converted).
bool ReadDocument(const std::string& file, std::string* out) {
  auto text = PosixFilesystem()->ReadFile(file);
  if (!text.ok()) {
    std::fprintf(stderr, "error: cannot read %s\n", file.c_str());
    return false;
  }
  const size_t first = text->find_first_not_of(" \t\r\n");
  const bool json_text = first != std::string::npos && (*text)[first] == '{';
  *out = json_text ? *text : control::DocumentJson(*text).dump();
  return true;
}

}  // namespace

int RunPipeline(const ApiCommand& o) {
  Reply r;
  const std::string& v = o.verb;
  if (v == "list") {
    if (!Call(o, "GET", "/api/v1/pipeline", "", &r)) return 1;
    return o.json ? (PrintJson(r.body), 0) : PrintList(r.body);
  }
  if (o.id.empty() && v != "create") return Usage("a pipeline id is required");
  if (v == "create" || v == "edit") {
    if (o.file.empty()) return Usage("--file (a v3 pipeline document, JSON or YAML) is required");
    std::string doc;
    if (!ReadDocument(o.file, &doc)) return 1;
    const std::string path = v == "create" ? "/api/v1/pipeline" : PipelinePath(o.id, "/edit");
    if (!Call(o, "POST", path, doc, &r)) return 1;
    const std::string id =
        o.id.empty() ? control::DocumentJson(doc).value("pipeline_id", "") : o.id;
    std::printf("pipeline %s %s\n", id.c_str(), v == "create" ? "created" : "edited (resuming)");
    if (o.wait_seconds > 0) {
      ApiCommand w = o;
      w.id = id;
      return WaitFor(w, "Running");
    }
    return 0;
  }
  if (v == "get") {
    if (!Call(o, "GET", PipelinePath(o.id), "", &r)) return 1;
    PrintJson(r.body);
    return 0;
  }
  if (v == "health") {
    if (!Call(o, "GET", PipelinePath(o.id, "/health"), "", &r)) return 1;
    return o.json ? (PrintJson(r.body), 0) : PrintHealth(r.body);
  }
  if (v == "stop" || v == "terminate" || v == "resume") {
    if (!Call(o, "POST", PipelinePath(o.id, "/" + v), "", &r)) return 1;
    std::printf("pipeline %s: %s\n", o.id.c_str(),
                v == "stop"        ? "stopping (draining its buffer)"
                : v == "terminate" ? "terminating"
                                   : "resuming");
    if (o.wait_seconds > 0) return WaitFor(o, v == "resume" ? "Running" : "Stopped");
    return 0;
  }
  if (v == "delete") {
    if (!Call(o, "DELETE", PipelinePath(o.id), "", &r)) return 1;
    std::printf("pipeline %s deleted (with its buffer and dead letters)\n", o.id.c_str());
    return 0;
  }
  return Usage("unknown pipeline command");
}

int RunDlqApi(const ApiCommand& o) {
  Reply r;
  const std::string& v = o.verb;
  if (o.id.empty()) return Usage("a pipeline id is required");
  if (v == "state") {
    if (!Call(o, "GET", PipelinePath(o.id, "/dlq/state"), "", &r)) return 1;
    if (o.json) return PrintJson(r.body), 0;
    for (const char* k :
         {"total_messages", "unconsumed_messages", "last_received_at", "last_consumed_at"})
      std::printf("%-20s %s\n", k, Str(r.body, k).c_str());
    return 0;
  }
  if (v == "consume") {
    if (!Call(o, "GET", PipelinePath(o.id, Cat("/dlq/consume?batch_size=", o.batch_size)), "", &r))
      return 1;
    if (r.body.is_array())
      for (const json& m : r.body) std::printf("%s\n", m.dump().c_str());
    return 0;
  }
  if (v == "purge") {
    if (!Call(o, "POST", PipelinePath(o.id, "/dlq/purge"), "", &r)) return 1;
    std::printf("pipeline %s: dead letters purged\n", o.id.c_str());
    return 0;
  }
  if (v == "list") {
    std::string q = Cat("?batch_size=", o.batch_size);
    if (!o.cursor.empty()) q += Cat("&cursor=", o.cursor);
    if (!o.component.empty()) q += Cat("&component=", o.component);
    if (!o.reason.empty()) q += Cat("&reason=", o.reason);
    if (!Call(o, "GET", PipelinePath(o.id, "/dlq/list" + q), "", &r)) return 1;
    if (o.json) return PrintJson(r.body), 0;
    std::printf("%-10s %-8s %-28s %-32s %s\n", "ID", "FROM", "REASON", "RECEIVED", "ERROR");
    for (const json& m : r.body.value("messages", json::array())) {
      std::string err = Str(m, "error");
      if (err.size() > 80) err = err.substr(0, 77) + "...";
      std::printf("%-10s %-8s %-28s %-32s %s\n", Str(m, "message_id").c_str(),
                  Str(m, "component").c_str(), Str(m, "reason").c_str(),
                  Str(m, "received_at").c_str(), err.c_str());
    }
    if (r.body.value("has_more", false))
      std::printf("more: --cursor %s\n", Str(r.body, "next_cursor").c_str());
    return 0;
  }
  if (v == "reprocess") {
    json req = {{"mode", o.ids.empty() ? "all" : "selected"}};
    if (!o.ids.empty()) req["message_ids"] = o.ids;
    if (!Call(o, "POST", PipelinePath(o.id, "/dlq/reprocess"), req.dump(), &r)) return 1;
    if (o.json) return PrintJson(r.body), 0;
    std::printf("pipeline %s: %s dead letter(s) sent through the pipeline again (%s); %s left\n",
                o.id.c_str(), Str(r.body, "reprocessed").c_str(), Str(r.body, "status").c_str(),
                Str(r.body, "remaining").c_str());
    for (const json& s : r.body.value("skipped", json::array()))
      std::printf("  skipped %s: %s\n", Str(s, "message_id").c_str(), Str(s, "reason").c_str());
    if (r.body.contains("error")) std::printf("  stopped: %s\n", Str(r.body, "error").c_str());
    return 0;
  }
  return Usage("unknown dlq command");
}

}  // namespace sluice::server
