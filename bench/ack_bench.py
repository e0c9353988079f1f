"""Acknowledged records/s and acknowledgement latency of OTLP/HTTP (protobuf) requests with
the durable buffer's fsync on, for 100- and 1000-record requests. Starts its own ClickHouse
and `sluice serve` (ports 28123 / 24318), drives them from N client threads with keep-alive
connections for a fixed time, and prints a table and JSON. Run by `make bench`.
"""
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, ".data", "bench")
CH_HTTP, CH_TCP, HTTP_PORT, GRPC_PORT = 28123, 29000, 24318, 24317
SECONDS = float(os.environ.get("BENCH_SECONDS", "8"))
THREADS = int(os.environ.get("BENCH_THREADS", "8"))


def make_request(n, gen):
    sys.path.insert(0, gen)
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2 as ls
    req = ls.ExportLogsServiceRequest()
    rl = req.resource_logs.add()
    for k, v in (("service.name", "bench"), ("host.name", "node-1"), ("k8s.pod.name", "bench-7d9")):
        a = rl.resource.attributes.add()
        a.key, a.value.string_value = k, v
    sl = rl.scope_logs.add()
    sl.scope.name = "bench"
    for i in range(n):
        r = sl.log_records.add()
        r.time_unix_nano = 1717171717000000000 + i
        r.severity_number = 9
        r.severity_text = "INFO"
        r.body.string_value = ("request handled: method=POST path=/api/v1/checkout status=200 " * 4)[:250 + i % 50]
        for k in ("http.method", "http.route", "user.id", "session.id", "peer.ip", "thread", "region", "az"):
            a = r.attributes.add()
            a.key, a.value.string_value = k, f"{k}-{i % 97}"
        r.trace_id = bytes((i + j) % 256 for j in range(16))
        r.span_id = bytes((i * 3 + j) % 256 for j in range(8))
    return req.SerializeToString()


def run(body, records):
    lat, lock, stop = [], threading.Lock(), threading.Event()
    errors = [0]

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", HTTP_PORT, timeout=30)
        mine = []
        while not stop.is_set():
            t0 = time.perf_counter()
            conn.request("POST", "/v1/logs", body=body, headers={
                "content-type": "application/x-protobuf", "x-glassflow-pipeline-id": "bench-logs"})
            r = conn.getresponse()
            r.read()
            if r.status == 200:
                mine.append(time.perf_counter() - t0)
            else:
                errors[0] += 1
                time.sleep(0.01)
        with lock:
            lat.extend(mine)

    ts = [threading.Thread(target=worker) for _ in range(THREADS)]
    t0 = time.perf_counter()
    for t in ts:
        t.start()
    time.sleep(SECONDS)
    stop.set()
    for t in ts:
        t.join()
    elapsed = time.perf_counter() - t0
    lat.sort()
    pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else float("nan")
    return {"records_per_request": records, "requests": len(lat), "errors": errors[0],
            "acked_records_per_s": round(len(lat) * records / elapsed),
            "p50_ms": round(pct(0.50), 3), "p99_ms": round(pct(0.99), 3), "p999_ms": round(pct(0.999), 3)}


def main():
    shutil.rmtree(DATA, ignore_errors=True)
    os.makedirs(os.path.join(DATA, "pipelines"))
    gen = os.path.join(DATA, "gen")
    os.makedirs(gen)
    subprocess.run(["protoc", "-I/usr/include", f"--python_out={gen}",
                    "opentelemetry/proto/common/v1/common.proto", "opentelemetry/proto/resource/v1/resource.proto",
                    "opentelemetry/proto/logs/v1/logs.proto",
                    "opentelemetry/proto/collector/logs/v1/logs_service.proto"], check=True)
    ch = os.path.join(ROOT, "scripts", "clickhouse")
    subprocess.run([ch, "start", os.path.join(DATA, "clickhouse"), str(CH_HTTP), str(CH_TCP)], check=True)
    subprocess.run([os.path.join(ROOT, "scripts", "create-tables"), f"http://127.0.0.1:{CH_HTTP}"],
                   check=True, stdout=subprocess.DEVNULL)
    doc = json.load(open(os.path.join(ROOT, "examples", "pipelines", "otel-logs.json")))
    doc["pipeline_id"] = "bench-logs"
    doc["sink"]["connection_params"]["http_port"] = str(CH_HTTP)
    json.dump(doc, open(os.path.join(DATA, "pipelines", "bench-logs.json"), "w"))
    env = dict(os.environ, SLUICE_PIPELINES_DIR=os.path.join(DATA, "pipelines"), SLUICE_DATA_DIR=DATA,
               SLUICE_HTTP_PORT=str(HTTP_PORT), SLUICE_GRPC_PORT=str(GRPC_PORT), SLUICE_IO_THREADS="4",
               SLUICE_HTTP_ADDRESS="127.0.0.1", SLUICE_GRPC_ADDRESS="127.0.0.1", SLUICE_LOG_LEVEL="warn")
    sluice = subprocess.Popen([os.path.join(ROOT, "build", "release", "sluice"), "serve"], env=env)
    results = []
    try:
        for _ in range(100):
            try:
                c = http.client.HTTPConnection("127.0.0.1", HTTP_PORT, timeout=5)
                c.request("POST", "/v1/logs", body=b"", headers={
                    "content-type": "application/x-protobuf", "x-glassflow-pipeline-id": "bench-logs"})
                if c.getresponse().status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        for n in (100, 1000):
            results.append(run(make_request(n, gen), n))
    finally:
        sluice.send_signal(signal.SIGTERM)
        sluice.wait(timeout=60)
        subprocess.run([ch, "stop", os.path.join(DATA, "clickhouse")])
    print(f"\nOTLP/HTTP protobuf, fsync=always, {THREADS} client threads, {SECONDS:.0f} s each (ClickHouse on the same 2 cores)")
    print(f"{'records/request':>16} {'acked records/s':>16} {'p50 ms':>8} {'p99 ms':>8} {'p99.9 ms':>9} {'errors':>7}")
    for r in results:
        print(f"{r['records_per_request']:>16} {r['acked_records_per_s']:>16} {r['p50_ms']:>8} {r['p99_ms']:>8} "
              f"{r['p999_ms']:>9} {r['errors']:>7}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
