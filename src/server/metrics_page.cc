#include "server/metrics_page.h"

#include <algorithm>
#include <string_view>

#include "clickhouse/client.h"
#include "core/prom_text.h"
#include "core/version.h"
#include "receivers/listener_stats.h"
#include "server/status_api.h"

namespace sluice::server {
namespace {

using pipeline::Pipeline;
using pipeline::RequestMetrics;
using pipeline::Transport;

constexpr Transport kTransportsList[] = {Transport::kHttp, Transport::kGrpc};

// The Collector names a signal's items: log_records, spans, metric_points.
std::string_view ItemName(Signal s) {
  switch (s) {
    case Signal::kLogs: return "log_records";
    case Signal::kTraces: return "spans";
    case Signal::kMetrics: return "metric_points";
  }
  return "log_records";
}

constexpr Signal kSignals[] = {Signal::kLogs, Signal::kTraces, Signal::kMetrics};

struct Entry {
  std::shared_ptr<Pipeline> p;
  Pipeline::Snapshot snap;
};

// The request families of one RequestMetrics (a pipeline's, or the unrouted one).
void RequestSeries(PromText& out, bool histogram, std::string_view name, std::string_view id,
                   std::string_view component, const RequestMetrics& m) {
  for (Transport t : kTransportsList) {
    for (size_t slot = 0; slot < RequestMetrics::kSlots; ++slot) {
      if (m.requests(t, slot) == 0) continue;
      const std::string_view code = RequestMetrics::StatusLabel(t, slot);
      const bool ok = code == "200" || code == "OK";
      Labels labels{{"component", component},
                    {"transport", pipeline::TransportName(t)},
                    {"status", ok ? "ok" : "error"},
                    {"code", code},
                    {"pipeline_id", id}};
      if (histogram)
        out.Observations(name, labels, m.durations(t, slot));
      else
        out.Sample(name, labels, m.requests(t, slot));
    }
  }
}

}  // namespace

std::string RenderMetrics(pipeline::Registry& registry, const ProcessStats& process) {
  std::vector<Entry> all;
  for (auto& p : registry.List()) all.push_back({p, p->TakeSnapshot()});
  PromText out;

  // ---- OpenTelemetry Collector names (receiver "otlp", exporter "clickhouse")
  for (Signal sig : kSignals) {
    const std::string item(ItemName(sig));
    for (bool accepted : {true, false}) {
      const std::string name = std::string("otelcol_receiver_") +
                               (accepted ? "accepted_" : "refused_") + item + "_total";
      out.Family(name, "counter",
                 accepted ? "Records stored in the pipeline's durable buffer and acknowledged."
                          : "Records not stored: refused requests and partial_success rejections.");
      for (const Entry& e : all) {
        if (e.p->config().signal != sig) continue;
        for (Transport t : kTransportsList) {
          const auto& m = e.p->metrics().requests;
          out.Sample(name,
                     {{"receiver", "otlp"},
                      {"transport", pipeline::TransportName(t)},
                      {"pipeline_id", e.p->config().id}},
                     accepted ? m.accepted(t) : m.refused(t));
        }
      }
    }
    for (bool sent : {true, false}) {
      const std::string name =
          std::string("otelcol_exporter_") + (sent ? "sent_" : "send_failed_") + item + "_total";
      out.Family(name, "counter",
                 sent ? "Records written to ClickHouse."
                      : "Records not written to ClickHouse: dead-lettered (or dropped) instead.");
      for (const Entry& e : all) {
        if (e.p->config().signal != sig) continue;
        const auto& st = e.p->stats();
        const uint64_t v =
            sent ? st.rows_inserted.load() : st.rows_send_failed.load() + st.rows_failed.load();
        out.Sample(name, {{"exporter", "clickhouse"}, {"pipeline_id", e.p->config().id}}, v);
      }
    }
  }
  out.Family("otelcol_exporter_queue_size", "gauge",
             "Bytes of accepted requests in the durable buffer not yet written to ClickHouse.");
  for (const Entry& e : all)
    out.Sample("otelcol_exporter_queue_size",
               {{"exporter", "clickhouse"}, {"pipeline_id", e.p->config().id}},
               e.snap.buffer.unacked_bytes);
  out.Family("otelcol_exporter_queue_capacity", "gauge",
             "Bytes the durable buffer holds before clients are refused.");
  for (const Entry& e : all)
    out.Sample("otelcol_exporter_queue_capacity",
               {{"exporter", "clickhouse"}, {"pipeline_id", e.p->config().id}},
               e.p->buffer_limit_bytes());

  // ---- GlassFlow names
  for (bool histogram : {false, true}) {
    const std::string_view name =
        histogram ? "gfm_receiver_request_duration_seconds" : "gfm_receiver_request_count_total";
    out.Family(name, histogram ? "histogram" : "counter",
               histogram
                   ? "OTLP requests' time from read to answer, by wire status code."
                   : "OTLP requests answered, by wire status code (HTTP status or gRPC code).");
    for (const Entry& e : all)
      RequestSeries(out, histogram, name, e.p->config().id, SourceTypeOf(e.p->config().signal),
                    e.p->metrics().requests);
    RequestSeries(out, histogram, name, "", "", registry.unrouted_requests());
  }
  out.Family("gfm_clickhouse_records_written_total", "counter", "Rows written to ClickHouse.");
  for (const Entry& e : all)
    out.Sample("gfm_clickhouse_records_written_total", {{"pipeline_id", e.p->config().id}},
               e.p->stats().rows_inserted.load());
  out.Family("gfm_sink_batch_size_records", "histogram", "Rows per batch sent to ClickHouse.");
  for (const Entry& e : all)
    out.Observations("gfm_sink_batch_size_records", {{"pipeline_id", e.p->config().id}},
                     e.p->metrics().batch_records);
  out.Family("gfm_sink_batch_size_bytes", "histogram", "RowBinary bytes per batch.");
  for (const Entry& e : all)
    out.Observations("gfm_sink_batch_size_bytes", {{"pipeline_id", e.p->config().id}},
                     e.p->metrics().batch_bytes);
  out.Family("gfm_dlq_records_written_total", "counter",
             "Dead letters written, by reason (see docs/operations.md).");
  for (const Entry& e : all)
    for (const auto& [reason, n] : e.p->metrics().dead_letters())
      out.Sample("gfm_dlq_records_written_total",
                 {{"pipeline_id", e.p->config().id}, {"reason", reason}}, n);

  out.Family("gfm_processor_messages_total", "counter",
             "Records through the transforms, by stage and outcome (filter: success, filtered, "
             "error; dedup: success, duplicate; transform: success, error).");
  for (const Entry& e : all) {
    const auto& spec = e.p->config().transforms;
    const auto& st = e.p->stats();
    const std::string& id = e.p->config().id;
    auto sample = [&](const char* component, const char* status, uint64_t v) {
      out.Sample("gfm_processor_messages_total",
                 {{"component", component}, {"pipeline_id", id}, {"status", status}}, v);
    };
    if (spec.filter) {
      sample("filter", "success", st.rows_filter_kept.load());
      sample("filter", "filtered", st.rows_filtered.load());
      sample("filter", "error", st.rows_filter_failed.load());
    }
    if (spec.dedup) {
      sample("dedup", "success", st.rows_dedup_kept.load());
      sample("dedup", "duplicate", st.rows_deduplicated.load());
    }
    if (spec.stateless) {
      sample("transform", "success", st.rows_transformed.load());
      sample("transform", "error", st.rows_transform_failed.load());
    }
  }

  // ---- Sluice's own
  out.Family(
      "sluice_dedup_index_keys", "gauge",
      "Keys in a pipeline's dedup index (seen within the window; expired ones until swept).");
  for (const Entry& e : all)
    if (e.p->config().transforms.dedup)
      out.Sample("sluice_dedup_index_keys", {{"pipeline_id", e.p->config().id}},
                 e.p->dedup_entries());
  out.Family("sluice_dedup_keys_missing_total", "counter",
             "Records of a dedup pipeline without a key (kept, not deduplicated).");
  for (const Entry& e : all)
    if (e.p->config().transforms.dedup)
      out.Sample("sluice_dedup_keys_missing_total", {{"pipeline_id", e.p->config().id}},
                 e.p->stats().dedup_keys_missing.load());
  out.Family("sluice_pipeline_state", "gauge",
             "1 for the pipeline's current state (Created, Running, Failed, Stopped).");
  for (const Entry& e : all)
    for (auto s : {Pipeline::State::kStarting, Pipeline::State::kRunning, Pipeline::State::kFailed,
                   Pipeline::State::kStopped})
      out.Sample("sluice_pipeline_state",
                 {{"pipeline_id", e.p->config().id}, {"state", StatusName(s)}},
                 uint64_t{(e.snap.parked ? Pipeline::State::kStopped : e.snap.state) == s});
  struct Gauge {
    std::string_view name, help;
  };
  const Gauge gauges[] = {
      {"sluice_buffer_records", "Records in the durable buffer not yet written to ClickHouse."},
      {"sluice_buffer_bytes", "Bytes of those records' requests."},
      {"sluice_buffer_oldest_age_seconds", "Age of the oldest record not yet written (0: none)."},
      {"sluice_buffer_disk_bytes", "Bytes of the buffer's segment files."},
      {"sluice_inserts_in_flight", "Batches handed to the ClickHouse inserters, not confirmed."},
      {"sluice_last_insert_timestamp_seconds", "Unix time of the last successful INSERT."},
  };
  for (size_t g = 0; g < std::size(gauges); ++g) {
    out.Family(gauges[g].name, "gauge", gauges[g].help);
    for (const Entry& e : all) {
      const auto& b = e.snap.buffer;
      double v = 0;
      switch (g) {
        case 0: v = static_cast<double>(b.unacked_records); break;
        case 1: v = static_cast<double>(b.unacked_bytes); break;
        case 2: v = e.snap.oldest_age_seconds; break;
        case 3: v = static_cast<double>(b.bytes); break;
        case 4: v = static_cast<double>(e.snap.inserts_in_flight); break;
        case 5: v = static_cast<double>(e.p->metrics().last_insert_ms.load()) / 1e3; break;
      }
      out.Sample(gauges[g].name, {{"pipeline_id", e.p->config().id}}, v);
    }
  }
  out.Family("sluice_ack_latency_seconds", "histogram",
             "Time from a request's submission to its durable append (the answer follows).");
  for (const Entry& e : all)
    out.Observations("sluice_ack_latency_seconds", {{"pipeline_id", e.p->config().id}},
                     e.p->metrics().ack_latency);
  out.Family("sluice_buffer_sync_duration_seconds", "histogram",
             "Time of each data sync (fdatasync) of the durable buffer: a commit group's, which "
             "the acknowledgements of its requests wait for, or a periodic one.");
  for (const Entry& e : all)
    if (e.snap.log)
      out.Observations("sluice_buffer_sync_duration_seconds", {{"pipeline_id", e.p->config().id}},
                       e.snap.log->sync_durations());
  out.Family("sluice_insert_duration_seconds", "histogram", "Time of successful INSERTs.");
  for (const Entry& e : all)
    out.Observations("sluice_insert_duration_seconds", {{"pipeline_id", e.p->config().id}},
                     e.p->metrics().insert_duration);
  out.Family("sluice_clickhouse_sent_bytes_total", "counter",
             "INSERT data sent to ClickHouse (after compression, before TLS), every attempt.");
  for (const Entry& e : all)
    out.Sample("sluice_clickhouse_sent_bytes_total", {{"pipeline_id", e.p->config().id}},
               e.p->metrics().sent_bytes.load());
  {
    out.Family("sluice_clickhouse_host_up", "gauge",
               "1 while a ClickHouse host answers, 0 while it is down (tried again with backoff).");
    for (const clickhouse::HostState& h : clickhouse::HostStates())
      out.Sample("sluice_clickhouse_host_up", {{"protocol", h.protocol}, {"host", h.host}},
                 uint64_t{h.up});
  }
  out.Family("sluice_insert_retries_total", "counter",
             "INSERTs retried, by class: connection (no answer), pressure (too many parts, "
             "memory), server (other retryable errors).");
  for (const Entry& e : all)
    for (auto c : {pipeline::RetryClass::kConnection, pipeline::RetryClass::kPressure,
                   pipeline::RetryClass::kServer})
      out.Sample("sluice_insert_retries_total",
                 {{"pipeline_id", e.p->config().id}, {"class", pipeline::RetryClassName(c)}},
                 e.p->metrics().retries(c));

  // ---- the listeners
  const auto listeners = receivers::AllListenerStats();
  out.Family("sluice_listener_connections", "gauge", "Connections open, by listener.");
  for (const auto& l : listeners)
    out.Sample("sluice_listener_connections", {{"listener", l->name}},
               static_cast<double>(l->connections.load()));
  out.Family("sluice_listener_connections_accepted_total", "counter",
             "Connections accepted, by listener.");
  for (const auto& l : listeners)
    out.Sample("sluice_listener_connections_accepted_total", {{"listener", l->name}},
               l->accepted.load());
  out.Family("sluice_listener_refused_total", "counter",
             "Connections and requests refused by a listener, by reason: max_connections, "
             "tls_handshake, handshake_timeout, header_too_large, request_timeout, "
             "unauthenticated, forbidden.");
  for (const auto& l : listeners)
    for (size_t r = 0; r < static_cast<size_t>(receivers::Refusal::kCount); ++r)
      out.Sample("sluice_listener_refused_total",
                 {{"listener", l->name},
                  {"reason", receivers::RefusalName(static_cast<receivers::Refusal>(r))}},
                 l->refused[r].load());
  out.Family("sluice_tls_certificate_not_after_seconds", "gauge",
             "Unix time the certificate a TLS listener serves expires.");
  for (const auto& l : listeners)
    if (l->tls)
      out.Sample("sluice_tls_certificate_not_after_seconds", {{"listener", l->name}},
                 static_cast<double>(l->tls_not_after.load()));
  out.Family("sluice_tls_reloads_total", "counter",
             "TLS certificate reloads, by result (failed: the previous certificate stays).");
  for (const auto& l : listeners)
    if (l->tls)
      for (auto [result, v] : {std::pair{"ok", l->tls_reloads_ok.load()},
                               std::pair{"failed", l->tls_reloads_failed.load()}})
        out.Sample("sluice_tls_reloads_total", {{"listener", l->name}, {"result", result}}, v);

  // ---- the process
  struct ProcessFigure {
    std::string_view name, type, help;
    double value;
  };
  const ProcessFigure figures[] = {
      {"process_cpu_seconds_total", "counter", "User and system CPU time.", process.cpu_seconds},
      {"process_resident_memory_bytes", "gauge", "Resident memory.",
       static_cast<double>(process.resident_bytes)},
      {"process_virtual_memory_bytes", "gauge", "Virtual memory.",
       static_cast<double>(process.virtual_bytes)},
      {"process_open_fds", "gauge", "Open file descriptors.",
       static_cast<double>(process.open_fds)},
      {"process_max_fds", "gauge", "The file descriptor limit.",
       static_cast<double>(process.max_fds)},
      {"process_threads", "gauge", "Threads.", static_cast<double>(process.threads)},
      {"process_start_time_seconds", "gauge", "Unix time the process started.",
       process.start_time_seconds},
  };
  for (const ProcessFigure& f : figures) {
    out.Family(f.name, f.type, f.help);
    out.Sample(f.name, {}, f.value);
  }
  out.Family("sluice_build_info", "gauge", "Always 1; the version in a label.");
  out.Sample("sluice_build_info", {{"version", kVersion}}, uint64_t{1});
  return out.Take();
}

}  // namespace sluice::server
