// sluice-loadgen: drives an OTLP receiver (Sluice, or anything that speaks OTLP) with
// realistic logs, traces or metrics over gRPC or HTTP (protobuf or JSON, gzip or not), from
// N connections with up to S requests in flight on each, either as fast as requests are
// acknowledged (closed loop) or at a fixed record rate (open loop: latency counts from when a
// request was due, so a stalled server is not hidden). Prints records and requests sent,
// acknowledged and failed by status, throughput and acknowledgement latency percentiles, as text
// and optionally JSON. Every record carries a unique `loadgen.id` attribute:
// "<run>-<sender>-<sequence>", where sender numbers the sending threads (connection × streams +
// stream).
#include <absl/flags/flag.h>
#include <absl/flags/parse.h>
#include <absl/flags/usage.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "loadgen/requests.h"
#include "loadgen/senders.h"

ABSL_FLAG(std::string, host, "127.0.0.1", "receiver host");
ABSL_FLAG(int, http_port, 4318, "OTLP/HTTP port");
ABSL_FLAG(int, grpc_port, 4317, "OTLP/gRPC port");
ABSL_FLAG(std::string, protocol, "grpc", "grpc or http");
ABSL_FLAG(std::string, encoding, "protobuf", "protobuf or json (json: http only)");
ABSL_FLAG(std::string, compression, "none", "none or gzip");
ABSL_FLAG(std::string, signal, "logs", "logs, traces or metrics");
ABSL_FLAG(std::string, pipeline, "otel-logs", "x-glassflow-pipeline-id");
ABSL_FLAG(int, body_min, 100, "shortest log body, bytes");
ABSL_FLAG(int, body_max, 400, "longest log body, bytes");
ABSL_FLAG(int, records, 1000, "records (log records, spans, data points) per request");
ABSL_FLAG(int, connections, 4, "connections");
ABSL_FLAG(int, streams, 1,
          "requests in flight per connection at most (gRPC: concurrent calls on the connection, "
          "as an exporter with several consumers sends; HTTP/1.1: a connection each)");
ABSL_FLAG(double, rate, 0, "records/s over all connections; 0: as fast as acknowledged");
ABSL_FLAG(double, duration, 10, "seconds to send");
ABSL_FLAG(int, run, -1, "run tag in the ids (0-65535); random when negative");
ABSL_FLAG(std::string, tls_ca, "", "TLS to the receiver, trusting this CA file (PEM)");
ABSL_FLAG(std::string, json, "", "also write the report as JSON to this file");

namespace sluice::loadgen {
namespace {

using Clock = std::chrono::steady_clock;

double Pct(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t i = static_cast<size_t>(p * static_cast<double>(sorted.size()));
  return sorted[std::min(i, sorted.size() - 1)];
}

struct ThreadResult {
  uint64_t requests = 0, records = 0, acked_requests = 0, acked_records = 0;
  std::map<std::string, uint64_t> by_status;
  std::vector<double> latency_ms;  // of acknowledged requests, from when each was due
  // Of the same requests: from the send to the answer (the server and the transport), and
  // how late the send started (the generator itself, or a slow answer before it).
  std::vector<double> round_trip_ms, late_ms;
};

struct Percentiles {
  double p50, p99, p999, max;
  static Percentiles Of(std::vector<double>& v) {
    std::sort(v.begin(), v.end());
    return {Pct(v, 0.50), Pct(v, 0.99), Pct(v, 0.999), v.empty() ? 0 : v.back()};
  }
  std::string Json() const {
    std::ostringstream o;
    o << "{\"p50\":" << p50 << ",\"p99\":" << p99 << ",\"p999\":" << p999 << ",\"max\":" << max
      << "}";
    return o.str();
  }
};

int Main(int argc, char** argv) {
  absl::SetProgramUsageMessage("sluice-loadgen: OTLP load generator (see --help)");
  absl::ParseCommandLine(argc, argv);
  Target target;
  target.host = absl::GetFlag(FLAGS_host);
  target.http_port = absl::GetFlag(FLAGS_http_port);
  target.grpc_port = absl::GetFlag(FLAGS_grpc_port);
  target.pipeline = absl::GetFlag(FLAGS_pipeline);
  const std::string protocol = absl::GetFlag(FLAGS_protocol);
  const std::string encoding = absl::GetFlag(FLAGS_encoding);
  const std::string compression = absl::GetFlag(FLAGS_compression);
  const std::string signal = absl::GetFlag(FLAGS_signal);
  if (signal == "logs") {
    target.signal = Signal::kLogs;
  } else if (signal == "traces") {
    target.signal = Signal::kTraces;
  } else if (signal == "metrics") {
    target.signal = Signal::kMetrics;
  } else {
    std::fprintf(stderr, "--signal must be logs, traces or metrics\n");
    return 2;
  }
  if ((protocol != "grpc" && protocol != "http") ||
      (encoding != "protobuf" && encoding != "json") ||
      (compression != "none" && compression != "gzip") ||
      (protocol == "grpc" && encoding == "json")) {
    std::fprintf(stderr, "bad --protocol/--encoding/--compression (json is http only)\n");
    return 2;
  }
  target.encoding = encoding == "json" ? Encoding::kJson : Encoding::kProtobuf;
  target.gzip = compression == "gzip";
  target.tls_ca = absl::GetFlag(FLAGS_tls_ca);
  const int records = std::max(1, absl::GetFlag(FLAGS_records));
  const int conns = std::max(1, absl::GetFlag(FLAGS_connections));
  const double rate = absl::GetFlag(FLAGS_rate);
  const double duration = absl::GetFlag(FLAGS_duration);
  int run_flag = absl::GetFlag(FLAGS_run);
  const uint16_t run =
      static_cast<uint16_t>(run_flag >= 0 ? run_flag : std::random_device{}() & 0xffff);

  // Templates are built before the clock starts; each thread stamps its own copy.
  const BodyRange body{static_cast<size_t>(std::max(1, absl::GetFlag(FLAGS_body_min))),
                       static_cast<size_t>(std::max(1, absl::GetFlag(FLAGS_body_max)))};
  if (body.max < body.min) {
    std::fprintf(stderr, "--body_max must be at least --body_min\n");
    return 2;
  }
  const int streams = std::max(1, absl::GetFlag(FLAGS_streams));
  const int senders = conns * streams;  // sending threads: one per stream of each connection
  if (senders > 65535) {
    std::fprintf(stderr, "--connections x --streams must be at most 65535\n");
    return 2;
  }
  std::vector<RequestTemplate> templates;
  for (int i = 0; i < senders; ++i)
    templates.push_back(RequestTemplate::Build(target.signal, target.encoding,
                                               static_cast<size_t>(records), i, body));
  const size_t request_bytes = templates[0].body().size();
  // Open loop: connection c's k-th request is due at start + (k + c / conns) * interval and is
  // sent by its stream k mod streams, so a slow answer delays only that stream's next request.
  const auto interval =
      rate > 0 ? std::chrono::duration<double>(records * conns / rate) : Clock::duration::zero();

  // gRPC senders are shared by a connection's streams (calls are thread-safe on a channel).
  std::vector<std::shared_ptr<Sender>> grpc_senders;
  if (protocol == "grpc")
    for (int c = 0; c < conns; ++c) grpc_senders.push_back(MakeGrpcSender(target, c));
  std::vector<ThreadResult> results(senders);
  std::vector<std::thread> threads;
  const auto start = Clock::now() + std::chrono::milliseconds(50);
  const auto end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(duration));
  for (int i = 0; i < senders; ++i) {
    threads.emplace_back([&, i] {
      const int c = i / streams, s = i % streams;
      ThreadResult& r = results[i];
      std::shared_ptr<Sender> sender =
          protocol == "grpc" ? grpc_senders[c] : std::shared_ptr<Sender>(MakeHttpSender(target));
      RequestTemplate& t = templates[i];
      uint64_t seq = 0;
      std::this_thread::sleep_until(start);
      for (uint64_t k = s;; k += streams) {
        Clock::time_point due = Clock::now();
        if (rate > 0) {
          due = start +
                std::chrono::duration_cast<Clock::duration>(interval * (k + c / double(conns)));
          if (due >= end) break;
          std::this_thread::sleep_until(due);
        } else if (due >= end) {
          break;
        }
        const std::string& body = t.Stamp(run, static_cast<uint16_t>(i), seq);
        seq += t.records();
        const Clock::time_point sent = Clock::now();
        Outcome o = sender->Send(body);
        const Clock::time_point answered = Clock::now();
        const double ms = std::chrono::duration<double, std::milli>(answered - due).count();
        r.requests++;
        r.records += t.records();
        r.by_status[o.label]++;
        if (o.ok) {
          r.acked_requests++;
          r.acked_records += t.records();
          r.latency_ms.push_back(ms);
          r.round_trip_ms.push_back(
              std::chrono::duration<double, std::milli>(answered - sent).count());
          r.late_ms.push_back(std::chrono::duration<double, std::milli>(sent - due).count());
        } else if (rate <= 0) {
          std::this_thread::sleep_for(std::chrono::milliseconds(5));  // don't spin on errors
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();

  ThreadResult all;
  for (auto& r : results) {
    all.requests += r.requests;
    all.records += r.records;
    all.acked_requests += r.acked_requests;
    all.acked_records += r.acked_records;
    for (auto& [k, v] : r.by_status) all.by_status[k] += v;
    all.latency_ms.insert(all.latency_ms.end(), r.latency_ms.begin(), r.latency_ms.end());
    all.round_trip_ms.insert(all.round_trip_ms.end(), r.round_trip_ms.begin(),
                             r.round_trip_ms.end());
    all.late_ms.insert(all.late_ms.end(), r.late_ms.begin(), r.late_ms.end());
  }
  const Percentiles lat = Percentiles::Of(all.latency_ms);
  const Percentiles round_trip = Percentiles::Of(all.round_trip_ms);
  const Percentiles late = Percentiles::Of(all.late_ms);
  const double acked_per_s = static_cast<double>(all.acked_records) / elapsed;

  std::printf(
      "sluice-loadgen: %s %s/%s%s, %d records/request (%zu bytes), %d connections x %d streams, "
      "%s\n",
      signal.c_str(), protocol.c_str(), encoding.c_str(), target.gzip ? "+gzip" : "", records,
      request_bytes, conns, streams,
      rate > 0 ? ("rate " + std::to_string(static_cast<long>(rate)) + " records/s").c_str()
               : "closed loop");
  std::printf("  run %04x, %.2f s\n", run, elapsed);
  std::printf("  requests: %llu sent, %llu acknowledged\n",
              static_cast<unsigned long long>(all.requests),
              static_cast<unsigned long long>(all.acked_requests));
  std::printf("  records:  %llu sent, %llu acknowledged, %.0f acknowledged/s\n",
              static_cast<unsigned long long>(all.records),
              static_cast<unsigned long long>(all.acked_records), acked_per_s);
  for (auto& [k, v] : all.by_status)
    std::printf("  status %-24s %llu\n", k.c_str(), static_cast<unsigned long long>(v));
  std::printf("  ack latency ms: p50 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n", lat.p50, lat.p99,
              lat.p999, lat.max);
  std::printf("    of it, send to answer: p50 %.2f  p99 %.2f; send after due: p50 %.2f  p99 %.2f\n",
              round_trip.p50, round_trip.p99, late.p50, late.p99);

  if (const std::string path = absl::GetFlag(FLAGS_json); !path.empty()) {
    std::ofstream f(path);
    f << "{\"signal\":\"" << signal << "\",\"protocol\":\"" << protocol << "\",\"encoding\":\""
      << encoding << "\",\"compression\":\"" << compression
      << "\",\"records_per_request\":" << records << ",\"request_bytes\":" << request_bytes
      << ",\"connections\":" << conns << ",\"streams\":" << streams << ",\"rate\":" << rate
      << ",\"run\":" << run << ",\"run_hex\":\"" << std::hex;
    f.width(4);
    f.fill('0');
    f << run << std::dec << "\",\"seconds\":" << elapsed << ",\"requests_sent\":" << all.requests
      << ",\"requests_acked\":" << all.acked_requests << ",\"records_sent\":" << all.records
      << ",\"records_acked\":" << all.acked_records
      << ",\"acked_records_per_s\":" << static_cast<uint64_t>(acked_per_s) << ",\"status\":{";
    bool first = true;
    for (auto& [k, v] : all.by_status) {
      f << (first ? "" : ",") << "\"" << k << "\":" << v;
      first = false;
    }
    f << "},\"latency_ms\":" << lat.Json() << ",\"round_trip_ms\":" << round_trip.Json()
      << ",\"late_ms\":" << late.Json() << "}\n";
  }
  return all.acked_requests > 0 ? 0 : 1;
}

}  // namespace
}  // namespace sluice::loadgen

int main(int argc, char** argv) { return sluice::loadgen::Main(argc, argv); }
