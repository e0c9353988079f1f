"""End-to-end tests for Sluice.

Starts a real ClickHouse (Debian's clickhouse-server) and `sluice serve`, sends OTLP with
real clients (the OpenTelemetry JS exporters over http/json, http/protobuf and gRPC, with
and without gzip; Python gRPC; raw HTTP as curl would), and asserts exact rows in
ClickHouse and exact status codes. Prints "e2e: N passed, N failed" last. Groups of their
own: robustness, operations, reach, matrix, security (TLS, mTLS, credentials, limits), api (the REST API, the CLI, GlassFlow's SDK).
"""
import gzip
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import zlib

from harness import *  # noqa: F401,F403 (constants, helpers and check)
import harness
import fault_matrix
import operations
import reach
import robustness
import security
import api
import console
import transforms

# ---------------------------------------------------------------- set-up / tear-down

procs = {}


def start():
    shutil.rmtree(DATA, ignore_errors=True)
    os.makedirs(os.path.join(DATA, "pipelines"))
    subprocess.run([os.path.join(ROOT, "scripts", "clickhouse"), "start", os.path.join(DATA, "clickhouse"),
                    *CH_PORTS], check=True)
    ch("DROP DATABASE IF EXISTS otel")
    subprocess.run([os.path.join(ROOT, "scripts", "create-tables"), f"http://127.0.0.1:{CH_HTTP}"], check=True)
    for name in os.listdir(os.path.join(ROOT, "examples", "pipelines")):
        doc = json.load(open(os.path.join(ROOT, "examples", "pipelines", name)))
        # The example files name the native port (as GlassFlow's do): these pipelines insert
        # over the native protocol with LZ4 blocks; the harness's pipelines use HTTP.
        doc["sink"]["connection_params"]["port"] = str(CH_TCP)
        doc["sink"]["max_delay_time"] = "200ms"
        json.dump(doc, open(os.path.join(DATA, "pipelines", name), "w"))
    start_sluice()


def start_sluice():
    env = dict(os.environ, SLUICE_PIPELINES_DIR=os.path.join(DATA, "pipelines"),
               SLUICE_HTTP_PORT=str(HTTP_PORT), SLUICE_GRPC_PORT=str(GRPC_PORT),
               SLUICE_HTTP_ADDRESS="127.0.0.1", SLUICE_GRPC_ADDRESS="127.0.0.1",
               SLUICE_ADMIN_PORT=str(ADMIN_PORT),
               SLUICE_MAX_REQUEST_BYTES=str(MAX_REQUEST), SLUICE_QUEUE_BYTES=str(256 << 10),
               SLUICE_DATA_DIR=os.path.join(DATA, "sluice"))
    log = open(os.path.join(DATA, "sluice.log"), "a")
    procs["sluice"] = subprocess.Popen([SLUICE, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    wait_loaded(HTTP_PORT)
    # pipelines read their table schemas asynchronously
    post_until("/v1/logs", b"", H("otel-logs", "application/x-protobuf"), 200)
    # An empty request is answered without its buffer: wait until the example pipelines
    # run (buffer open, table read), so the first test's request is not told "starting".
    for pid in ("otel-logs", "otel-traces", "otel-metrics"):
        for _ in range(300):
            try:
                st, _, body = post(f"/api/v1/pipeline/{pid}/health", b"", {}, method="GET", port=ADMIN_PORT)
                if st == 200 and json.loads(body).get("overall_status") == "Running":
                    break
            except OSError:
                pass
            time.sleep(0.1)


def stop():
    p = procs.get("sluice")
    if p and p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
    subprocess.run([os.path.join(ROOT, "scripts", "clickhouse"), "stop", os.path.join(DATA, "clickhouse")])


# ---------------------------------------------------------------- tests

def test_exact_log_row():
    print("exact rows: OTLP/JSON logs over HTTP")
    body = json.dumps({"resourceLogs": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "checkout"}},
                                    {"key": "host.name", "value": {"stringValue": "h1"}}]},
        "schemaUrl": "https://opentelemetry.io/schemas/1.26.0",
        "scopeLogs": [{"scope": {"name": "com.example", "version": "2.3.1",
                                 "attributes": [{"key": "lib", "value": {"boolValue": True}}]},
                       "schemaUrl": "https://s/1",
                       "logRecords": [{
                           "timeUnixNano": "1717171717123456789", "observedTimeUnixNano": 1717171718000000000,
                           "severityNumber": "SEVERITY_NUMBER_WARN", "severityText": "WARN",
                           "body": {"kvlistValue": {"values": [{"key": "k", "value": {"intValue": "-7"}}]}},
                           "attributes": [{"key": "exact.row", "value": {"stringValue": "yes"}},
                                          {"key": "d", "value": {"doubleValue": 0.1}},
                                          {"key": "b", "value": {"bytesValue": "3q2+7w=="}},
                                          {"key": "arr", "value": {"arrayValue": {"values": [{"stringValue": "a"}, {"intValue": 2}]}}},
                                          {"key": "unknownField", "value": {"stringValue": "x"}, "future": 1}],
                           "droppedAttributesCount": 2, "flags": 257,
                           "traceId": "0AF7651916CD43DD8448EB211C80319C", "spanId": "b7ad6b7169203331",
                           "eventName": "checkout.payment_failed"}]}]}]}).encode()
    st, hd, resp = post("/v1/logs", body, H("otel-logs"))
    check("HTTP 200 with {} for a full success", st == 200 and resp == b"{}" and hd["content-type"] == "application/json",
          f"{st} {resp!r}")
    ok = wait_rows("SELECT count() FROM otel.otel_logs WHERE has(LogAttributes.key, 'exact.row')", 1)
    row = ch("SELECT * FROM otel.otel_logs WHERE has(LogAttributes.key, 'exact.row') FORMAT TabSeparated").rstrip("\n")
    want = "\t".join([
        "1717171717123456789", "2024-05-31 16:08:37", "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331",
        "1", "WARN", "13", "checkout", '{"k":-7}', "https://opentelemetry.io/schemas/1.26.0",
        "['service.name','host.name']", "['checkout','h1']", "https://s/1", "com.example", "2.3.1",
        "['lib']", "['true']", "['exact.row','d','b','arr','unknownField']",
        "['yes','0.1','deadbeef','[\"a\",2]','x']", "checkout.payment_failed", "1717171718000000000", "2"])
    check("every mapped column of the log row", ok and row == want, f"\n got  {row!r}\n want {want!r}")


def test_exact_trace_row():
    print("exact rows: OTLP/JSON traces with events, links and status")
    body = json.dumps({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "pay"}}]},
        "scopeSpans": [{"scope": {"name": "http", "version": "1.0.0"}, "spans": [{
            "traceId": "4bf92f3577b34da6a3ce929d0e0e4736", "spanId": "00f067aa0ba902b7",
            "parentSpanId": "00f067aa0ba902b8", "traceState": "v=1", "flags": 769, "name": "POST /pay",
            "kind": 2, "startTimeUnixNano": "1717171717000000000", "endTimeUnixNano": "1717171717250000000",
            "attributes": [{"key": "http.method", "value": {"stringValue": "POST"}}],
            "events": [{"timeUnixNano": "1717171717100000000", "name": "exception",
                        "attributes": [{"key": "exception.type", "value": {"stringValue": "E"}}]}],
            "links": [{"traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "b7ad6b7169203331",
                       "traceState": "x=y", "attributes": [{"key": "r", "value": {"intValue": "1"}}]}],
            "status": {"code": 2, "message": "declined"}}]}]}]}).encode()
    st, _, resp = post("/v1/traces", body, H("otel-traces"))
    check("HTTP 200", st == 200, f"{st} {resp!r}")
    ok = wait_rows("SELECT count() FROM otel.otel_traces WHERE SpanName = 'POST /pay'", 1)
    row = ch("SELECT * FROM otel.otel_traces WHERE SpanName = 'POST /pay' FORMAT TabSeparated").rstrip("\n")
    want = "\t".join([
        "1717171717000000000", "2024-05-31 16:08:37", "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7",
        "00f067aa0ba902b8", "v=1", "769", "POST /pay", "SERVER", "pay", "['service.name']", "['pay']",
        "http", "1.0.0", "['http.method']", "['POST']", "250000000", "ERROR", "declined",
        "[1717171717100000000]", "['exception']", "['{\"exception.type\":\"E\"}']",
        "['0af7651916cd43dd8448eb211c80319c']", "['b7ad6b7169203331']", "['x=y']", "['{\"r\":\"1\"}']"])
    check("every mapped column of the span row", ok and row == want, f"\n got  {row!r}\n want {want!r}")


def test_exact_metric_rows():
    print("exact rows: every metric kind lands in its table")
    res = {"attributes": [{"key": "service.name", "value": {"stringValue": "m"}}]}
    pt = {"startTimeUnixNano": "1717171700000000000", "timeUnixNano": "1717171760000000000",
          "attributes": [{"key": "k", "value": {"stringValue": "v"}}]}
    metrics = [
        {"name": "g", "unit": "1", "gauge": {"dataPoints": [dict(pt, asInt="42")]}},
        {"name": "s", "sum": {"aggregationTemporality": 1, "isMonotonic": True,
                              "dataPoints": [dict(pt, asDouble=2.5, exemplars=[{
                                  "timeUnixNano": "1717171745000000000", "asInt": "3",
                                  "spanId": "b7ad6b7169203331", "traceId": "0af7651916cd43dd8448eb211c80319c",
                                  "filteredAttributes": [{"key": "u", "value": {"stringValue": "42"}}]}])]}},
        {"name": "h", "histogram": {"aggregationTemporality": 2, "dataPoints": [dict(
            pt, count="6", sum=1.35, bucketCounts=["1", "3", "2", "0"], explicitBounds=[0.1, 0.25, 0.5],
            min=0.05, max=0.45)]}},
        {"name": "e", "exponentialHistogram": {"aggregationTemporality": 2, "dataPoints": [dict(
            pt, count="5", sum=10.5, scale=-1, zeroCount="1", positive={"offset": 2, "bucketCounts": ["1", "2"]},
            negative={"offset": -3, "bucketCounts": ["1"]})]}},
        {"name": "q", "summary": {"dataPoints": [dict(pt, count="4", sum=8.0, quantileValues=[
            {"quantile": 0.5, "value": 1.5}, {"quantile": 0.99, "value": 3.0}])]}},
    ]
    body = json.dumps({"resourceMetrics": [{"resource": res, "scopeMetrics": [
        {"scope": {"name": "meter"}, "metrics": metrics}]}]}).encode()
    st, _, resp = post("/v1/metrics", body, H("otel-metrics"))
    check("HTTP 200", st == 200, f"{st} {resp!r}")
    common = "['service.name']\t['m']\t\tmeter\t\t[]\t[]\t0\t\tm\t{name}\t\t{unit}\t['k']\t['v']\t1717171700000000000\t1717171760000000000\t2024-05-31 16:09:20\t0"
    expect = {
        "gauge": (common.format(name="g", unit="1") + "\t42\t[]\t[]\t[]\t[]\t[]"),
        "sum": (common.format(name="s", unit="") + "\t2.5\t['{\"u\":\"42\"}']\t[1717171745000000000]\t[3]"
                "\t['b7ad6b7169203331']\t['0af7651916cd43dd8448eb211c80319c']\t1\t1"),
        "histogram": (common.format(name="h", unit="") + "\t6\t1.35\t[1,3,2,0]\t[0.1,0.25,0.5]\t[]\t[]\t[]\t[]\t[]"
                      "\t0.05\t0.45\t2"),
        "exponential_histogram": (common.format(name="e", unit="") + "\t5\t10.5\t-1\t1\t2\t[1,2]\t-3\t[1]"
                                  "\t[]\t[]\t[]\t[]\t[]\t0\t0\t2"),
        "summary": (common.format(name="q", unit="") + "\t4\t8\t[0.5,0.99]\t[1.5,3]"),
    }
    for kind, want in expect.items():
        t = f"otel.otel_metrics_{kind}"
        ok = wait_rows(f"SELECT count() FROM {t} WHERE ServiceName = 'm'", 1)
        row = ch(f"SELECT * FROM {t} WHERE ServiceName = 'm' FORMAT TabSeparated").rstrip("\n")
        check(f"{kind}: every mapped column", ok and row == want, f"\n got  {row!r}\n want {want!r}")


def test_status_codes():
    print("status codes (HTTP)")
    logs = logs_json("status")
    for ctype, is_json in (("application/json", True), ("application/x-protobuf", False)):
        body = logs if is_json else b""
        st, hd, resp = post("/v1/logs", body, H(None, ctype))
        code, msg = (json.loads(resp)["code"], json.loads(resp)["message"]) if is_json else rpc_status(resp)[:2]
        check(f"missing header -> 400 + Status ({ctype})",
              st == 400 and code == 3 and "x-glassflow-pipeline-id" in msg and hd["content-type"] == ctype,
              f"{st} {resp!r}")
    st, _, resp = post("/v1/logs", logs, H("no-such-pipeline"))
    check("unknown pipeline -> 404 + Status NOT_FOUND",
          st == 404 and json.loads(resp)["code"] == 5 and "no-such-pipeline" in json.loads(resp)["message"],
          f"{st} {resp!r}")
    st, _, resp = post("/v1/traces", logs, H("otel-logs"))
    m = json.loads(resp).get("message", "")
    check("wrong signal -> 400 naming both", st == 400 and "otlp.logs" in m and "otlp.traces" in m, f"{st} {resp!r}")
    st, hd, resp = post("/v1/logs", b"\x0a\xff\xff", H("otel-logs", "application/x-protobuf"))
    code, msg, _ = rpc_status(resp)
    check("undecodable protobuf -> 400 + Status INVALID_ARGUMENT",
          st == 400 and code == 3 and hd["content-type"] == "application/x-protobuf", f"{st} {resp!r}")
    st, _, resp = post("/v1/logs", b"{not json", H("otel-logs"))
    check("undecodable JSON -> 400", st == 400 and json.loads(resp)["code"] == 3, f"{st} {resp!r}")
    bad_id = logs.replace(b"0af7651916cd43dd8448eb211c80319c", b"0af765")
    st, _, resp = post("/v1/logs", bad_id, H("otel-logs"))
    check("hex id of the wrong length -> 400", st == 400 and b"traceId" in resp, f"{st} {resp!r}")
    bomb = gzip.compress(b"{" + b" " * (MAX_REQUEST + 10) + b"}")
    st, _, resp = post("/v1/logs", bomb, H("otel-logs", **{"content-encoding": "gzip"}))
    check("over the limit after decompression -> 413 RESOURCE_EXHAUSTED",
          st == 413 and json.loads(resp)["code"] == 8, f"{st} {resp[:200]!r}")
    st, _, resp = post("/v1/logs", b"x" * (MAX_REQUEST + 1), H("otel-logs", "application/x-protobuf"))
    check("raw body over the limit -> 413", st == 413, f"{st}")
    st, hd, _ = post("/v1/logs", b"", {}, method="GET")
    check("wrong method -> 405 with Allow: POST", st == 405 and hd.get("allow") == "POST", f"{st}")
    st, _, _ = post("/v1/profiles", logs, H("otel-logs"))
    check("unknown path -> 404", st == 404, f"{st}")
    st, _, _ = post("/v1/logs", logs, H("otel-logs", "text/plain"))
    check("unsupported Content-Type -> 415", st == 415, f"{st}")
    st, _, resp = post("/v1/logs", logs, H("otel-logs", **{"content-encoding": "br"}))
    check("unsupported Content-Encoding -> 415", st == 415, f"{st} {resp!r}")
    st, hd, resp = post("/v1/logs", b"", H("otel-logs", "application/x-protobuf"))
    check("empty protobuf request -> 200, empty body", st == 200 and resp == b"" and
          hd["content-type"] == "application/x-protobuf", f"{st} {resp!r}")
    st, _, resp = post("/v1/logs", b"{}", H("otel-logs"))
    check("empty JSON request -> 200 {}", st == 200 and resp == b"{}", f"{st} {resp!r}")
    st, _, resp = post("/v1/logs", b"{\"resourceLogs\":[]}", H("otel-logs", "application/json; charset=utf-8"))
    check("media type parameters are ignored", st == 200, f"{st}")
    # partial success: one valid span and one with an empty span id
    spans = {"resourceSpans": [{"scopeSpans": [{"spans": [
        {"traceId": "4bf92f3577b34da6a3ce929d0e0e4736", "spanId": "00f067aa0ba902b7", "name": "partial-ok"},
        {"traceId": "4bf92f3577b34da6a3ce929d0e0e4736", "spanId": "", "name": "partial-bad"}]}]}]}
    st, _, resp = post("/v1/traces", json.dumps(spans).encode(), H("otel-traces"))
    ps = json.loads(resp).get("partialSuccess", {}) if st == 200 else {}
    check("partial success: 200 + rejectedSpans", st == 200 and ps.get("rejectedSpans") == "1" and
          "span_id" in ps.get("errorMessage", ""), f"{st} {resp!r}")
    check("partial success: the valid span lands",
          wait_rows("SELECT count() FROM otel.otel_traces WHERE SpanName LIKE 'partial-%'", 1))
    st, _, _ = post("/healthz", b"", {}, method="GET")
    check("/healthz -> 200", st == 200)


def test_encodings():
    print("Content-Encoding, chunked bodies, keep-alive")
    import lz4.frame
    import snappy
    import zstandard
    enc = {
        "identity": lambda b: b,
        "gzip": gzip.compress,
        "deflate": zlib.compress,
        "zstd": lambda b: zstandard.ZstdCompressor().compress(b),
        "snappy": snappy.compress,
        "lz4": lz4.frame.compress,
    }
    for name, fn in enc.items():
        run = f"enc-{name}"
        st, _, resp = post("/v1/logs", fn(logs_json(run, 3)), H("otel-logs", **{"content-encoding": name}))
        check(f"{name}: 200", st == 200, f"{st} {resp!r}")
        check(f"{name}: 3 rows", wait_rows(
            f"SELECT count() FROM otel.otel_logs WHERE has(LogAttributes.value, '{run}')", 3))
    st, _, _ = post("/v1/logs", logs_json("chunked", 2), H("otel-logs"), chunked=True)
    check("chunked body: 200", st == 200)
    check("chunked body: rows", wait_rows(
        "SELECT count() FROM otel.otel_logs WHERE has(LogAttributes.value, 'chunked')", 2))
    conn = http.client.HTTPConnection("127.0.0.1", HTTP_PORT, timeout=30)
    results = [post("/v1/logs", logs_json(f"keepalive", 1), H("otel-logs"), conn=conn)[0] for _ in range(3)]
    conn.close()
    check("keep-alive: three requests on one connection", results == [200, 200, 200], str(results))


def test_curl():
    print("curl")
    body = os.path.join(DATA, "curl-logs.json")
    open(body, "wb").write(logs_json("curl-json", 2))
    gz = os.path.join(DATA, "curl-logs.json.gz")
    open(gz, "wb").write(gzip.compress(logs_json("curl-gzip", 3)))

    def curl(*args):
        p = subprocess.run(["curl", "-s", "-o", "/dev/stderr", "-w", "%{http_code}", *args],
                           capture_output=True, text=True, timeout=30)
        return p.stdout.strip(), p.stderr

    code, out = curl(f"http://127.0.0.1:{HTTP_PORT}/v1/logs", "-H", "content-type: application/json",
                     "-H", "x-glassflow-pipeline-id: otel-logs", "--data-binary", f"@{body}")
    check("curl JSON: 200 {}", code == "200" and out == "{}", f"{code} {out}")
    check("curl JSON: 2 rows", wait_rows(
        "SELECT count() FROM otel.otel_logs WHERE has(LogAttributes.value, 'curl-json')", 2))
    code, out = curl(f"http://127.0.0.1:{HTTP_PORT}/v1/logs", "-H", "content-type: application/json",
                     "-H", "content-encoding: gzip", "-H", "x-glassflow-pipeline-id: otel-logs",
                     "--data-binary", f"@{gz}")
    check("curl gzip: 200", code == "200", f"{code} {out}")
    check("curl gzip: 3 rows", wait_rows(
        "SELECT count() FROM otel.otel_logs WHERE has(LogAttributes.value, 'curl-gzip')", 3))
    code, out = curl(f"http://127.0.0.1:{HTTP_PORT}/v1/logs", "-H", "content-type: application/json",
                     "--data-binary", f"@{body}")
    check("curl without the header: 400 with a JSON Status", code == "400" and
          json.loads(out).get("code") == 3, f"{code} {out}")


def test_reload():
    print("pipelines added and removed while running (SIGHUP)")
    doc = json.load(open(os.path.join(DATA, "pipelines", "otel-logs.json")))
    doc["pipeline_id"] = "reloaded-logs"
    path = os.path.join(DATA, "pipelines", "reloaded-logs.json")
    st, _, _ = post("/v1/logs", logs_json("reload", 1), H("reloaded-logs"))
    check("before: unknown pipeline -> 404", st == 404, str(st))
    json.dump(doc, open(path, "w"))
    procs["sluice"].send_signal(signal.SIGHUP)
    st = post_until("/v1/logs", logs_json("reload", 1), H("reloaded-logs"), 200)
    check("after adding the file and SIGHUP: 200", st == 200, str(st))
    check("the new pipeline delivers", wait_rows(
        "SELECT count() FROM otel.otel_logs WHERE has(LogAttributes.value, 'reload')", 1))
    # A broken file keeps the running pipelines (it might be one of them being edited).
    broken = os.path.join(DATA, "pipelines", "broken.json")
    open(broken, "w").write("{not json")
    os.unlink(path)
    procs["sluice"].send_signal(signal.SIGHUP)
    time.sleep(1)
    st, _, _ = post("/v1/logs", logs_json("reload", 1), H("reloaded-logs"))
    check("a pipeline whose file went away stays while another file is unreadable", st == 200, str(st))
    os.unlink(broken)
    procs["sluice"].send_signal(signal.SIGHUP)
    st = post_until("/v1/logs", logs_json("reload", 1), H("reloaded-logs"), 404)
    check("after removing the file and SIGHUP: 404", st == 404, str(st))
    # Editing a pipeline's file (here: a shorter batch delay) replaces it without a 404 gap.
    doc = json.load(open(os.path.join(DATA, "pipelines", "otel-logs.json")))
    doc["sink"]["max_delay_time"] = "300ms"
    json.dump(doc, open(os.path.join(DATA, "pipelines", "otel-logs.json"), "w"))
    procs["sluice"].send_signal(signal.SIGHUP)
    seen = set()
    for _ in range(40):
        seen.add(post("/v1/logs", logs_json("reload-edit", 1), H("otel-logs"))[0])
        time.sleep(0.02)
    check("an edited pipeline is replaced without 404s", 404 not in seen and 200 in seen, str(seen))
    st, _, _ = post("/v1/logs", logs_json("reload-still", 1), H("otel-logs"))
    check("other pipelines keep running", st == 200, str(st))


def test_js_exporters():
    print("OpenTelemetry JS exporters (http/json, http/protobuf, grpc; gzip on and off)")
    for protocol in ("http/json", "http/protobuf", "grpc"):
        for gz in (False, True):
            run = f"js-{protocol}-{'gzip' if gz else 'none'}"
            ok, out = node_send("logs", protocol, gz, 5, run, "otel-logs")
            check(f"logs {run}: export succeeded", ok, out)
            check(f"logs {run}: 5 rows", wait_rows(
                f"SELECT count() FROM otel.otel_logs WHERE has(ResourceAttributes.value, '{run}')", 5))
            ok, out = node_send("traces", protocol, gz, 4, run, "otel-traces")
            check(f"traces {run}: export succeeded", ok, out)
            check(f"traces {run}: 4 rows", wait_rows(
                f"SELECT count() FROM otel.otel_traces WHERE has(ResourceAttributes.value, '{run}')", 4))
            ok, out = node_send("metrics", protocol, gz, 3, run, "otel-metrics")
            check(f"metrics {run}: export succeeded", ok, out)
            check(f"metrics {run}: 3 counter points", wait_rows(
                f"SELECT count() FROM otel.otel_metrics_sum WHERE has(ResourceAttributes.value, '{run}')", 3))
            check(f"metrics {run}: 1 histogram point", wait_rows(
                f"SELECT count() FROM otel.otel_metrics_histogram WHERE has(ResourceAttributes.value, '{run}')", 1))
    import re
    for run in ("js-http/json-none", "js-http/protobuf-gzip", "js-grpc-none"):
        row = ch(f"SELECT * FROM otel.otel_logs WHERE has(ResourceAttributes.value, '{run}') "
                 f"ORDER BY Timestamp LIMIT 1 FORMAT TabSeparated").rstrip("\n").split("\t")
        want = ["1717171717123456789", "2024-05-31 16:08:37", "", "", "0", "INFO", "9", "js-sender",
                f"run={run} seq=0", "",
                "['service.name','service.version','test.run','test.protocol']",
                f"['js-sender','1.2.3','{run}','{run[3:run.rfind('-')]}']", "", "sluice-e2e", "0.9.0",
                "[]", "[]", "['seq','test.run','ok','ratio']", f"['0','{run}','true','0.5']", "e2e.event",
                "<now>", "0"]
        observed_ok = len(row) == len(want) and abs(int(row[20]) - time.time() * 1e9) < 600e9
        row_cmp = row[:20] + ["<now>"] + row[21:] if len(row) == len(want) else row
        check(f"JS log row, every column ({run})", row_cmp == want and observed_ok,
              f"\n got  {row!r}\n want {want!r}")
        row = ch(f"SELECT * FROM otel.otel_traces WHERE has(ResourceAttributes.value, '{run}') "
                 f"ORDER BY Timestamp LIMIT 1 FORMAT TabSeparated").rstrip("\n").split("\t")
        ids_ok = len(row) > 3 and re.fullmatch("[0-9a-f]{32}", row[2]) and re.fullmatch("[0-9a-f]{16}", row[3])
        want = ["1717171717000000000", "2024-05-31 16:08:37", "<trace>", "<span>", "", "", "257", "op-0",
                "SERVER", "js-sender", "['service.name','service.version','test.run','test.protocol']",
                f"['js-sender','1.2.3','{run}','{run[3:run.rfind('-')]}']", "sluice-e2e", "0.9.0",
                "['seq','test.run']", f"['0','{run}']", "250000000", "ERROR", "boom",
                "[1717171717000000500]", "['checkpoint']", "['{\"step\":\"1\"}']", "[]", "[]", "[]", "[]"]
        row_cmp = row[:2] + ["<trace>", "<span>"] + row[4:] if len(row) > 4 else row
        check(f"JS span row, every column ({run})", ids_ok and row_cmp == want, f"\n got  {row!r}\n want {want!r}")
    for run in ("js-http/json-none", "js-grpc-gzip"):
        proto = run[3:run.rfind('-')]
        rows = ch(f"SELECT * FROM otel.otel_metrics_sum WHERE has(ResourceAttributes.value, '{run}') "
                  f"ORDER BY Attributes.value FORMAT TabSeparated").rstrip("\n").split("\n")
        res = ("['service.name','service.version','test.run','test.protocol']\t"
               f"['js-sender','1.2.3','{run}','{proto}']\t\tsluice-e2e\t0.9.0\t[]\t[]\t0\t\tjs-sender")
        ok = len(rows) == 3
        for i, row in enumerate(rows):
            cols = row.split("\t")
            # StartTimeUnix, TimeUnix, TimeUnixTime are the SDK's clock: checked for being recent
            times_ok = len(cols) == 27 and abs(int(cols[16]) / 1e9 - time.time()) < 600 and int(cols[15]) <= int(cols[16])
            fixed = "\t".join(cols[:15] + cols[18:]) if len(cols) == 27 else row
            want = (res + f"\te2e.requests\trequests\t1\t['test.run','series']\t['{run}','{i}']\t0\t1"
                    "\t[]\t[]\t[]\t[]\t[]\t2\t1")
            ok = ok and times_ok and fixed == want
            if not ok:
                print(f"       got  {fixed!r}\n       want {want!r}")
                break
        check(f"JS counter rows, every column ({run})", ok)
        row = ch(f"SELECT * FROM otel.otel_metrics_histogram WHERE has(ResourceAttributes.value, '{run}') "
                 f"FORMAT TabSeparated").rstrip("\n").split("\t")
        fixed = "\t".join(row[:15] + row[18:]) if len(row) == 31 else "\t".join(row)
        want = (res + f"\te2e.latency\t\tms\t['test.run']\t['{run}']\t0\t3\t4.5\t[0,3,0,0,0,0,0,0,0,0,0,0,0,0,0,0]"
                "\t[0,5,10,25,50,75,100,250,500,750,1000,2500,5000,7500,10000]\t[]\t[]\t[]\t[]\t[]\t0.5\t2.5\t2")
        check(f"JS histogram row, every column ({run})", fixed == want, f"\n got  {fixed!r}\n want {want!r}")


def test_python_grpc():
    print("Python gRPC client (grpcio)")
    import grpc
    ls, ts, ms = otlp_pb()

    channel = grpc.insecure_channel(f"127.0.0.1:{GRPC_PORT}")

    class Stub:  # what grpc_tools would generate for a unary Export
        def __init__(self, service, req, resp):
            self.Export = channel.unary_unary(f"/opentelemetry.proto.collector.{service}/Export",
                                              request_serializer=req.SerializeToString,
                                              response_deserializer=resp.FromString)

    def logs_req(run, n):
        return logs_request(run, n, "py")

    stub = Stub("logs.v1.LogsService", ls.ExportLogsServiceRequest, ls.ExportLogsServiceResponse)
    md = (("x-glassflow-pipeline-id", "otel-logs"),)
    for comp in (grpc.Compression.NoCompression, grpc.Compression.Gzip, grpc.Compression.Deflate):
        run = f"py-{int(comp)}"
        resp = stub.Export(logs_req(run, 4), metadata=md, compression=comp, timeout=10)
        check(f"logs compression={comp.name}: OK, no partial success", not resp.HasField("partial_success"))
        check(f"logs compression={comp.name}: 4 rows", wait_rows(
            f"SELECT count() FROM otel.otel_logs WHERE has(LogAttributes.value, '{run}')", 4))

    treq = ts.ExportTraceServiceRequest()
    sp = treq.resource_spans.add().scope_spans.add().spans.add()
    sp.trace_id, sp.span_id, sp.name = bytes(range(1, 17)), bytes(range(1, 9)), "py-span"
    bad = treq.resource_spans[0].scope_spans[0].spans.add()
    bad.trace_id, bad.span_id, bad.name = bytes(16), bytes(range(1, 9)), "py-bad-span"
    resp = Stub("trace.v1.TraceService", ts.ExportTraceServiceRequest, ts.ExportTraceServiceResponse).Export(treq, metadata=(("x-glassflow-pipeline-id", "otel-traces"),), timeout=10)
    check("traces: partial_success.rejected_spans = 1", resp.partial_success.rejected_spans == 1,
          str(resp))
    check("traces: valid span lands", wait_rows("SELECT count() FROM otel.otel_traces WHERE SpanName = 'py-span'", 1))

    mreq = ms.ExportMetricsServiceRequest()
    m = mreq.resource_metrics.add().scope_metrics.add().metrics.add()
    m.name = "py.gauge"
    p = m.gauge.data_points.add()
    p.time_unix_nano, p.as_double = 1717171760000000000, 7.5
    Stub("metrics.v1.MetricsService", ms.ExportMetricsServiceRequest, ms.ExportMetricsServiceResponse).Export(mreq, metadata=(("x-glassflow-pipeline-id", "otel-metrics"),), timeout=10)
    check("metrics: gauge row", wait_rows("SELECT Value FROM otel.otel_metrics_gauge WHERE MetricName = 'py.gauge'", 7.5))

    def code_of(fn):
        try:
            fn()
            return grpc.StatusCode.OK, None
        except grpc.RpcError as e:
            return e.code(), e

    c, _ = code_of(lambda: stub.Export(logs_req("x", 1), timeout=10))
    check("missing metadata -> INVALID_ARGUMENT", c == grpc.StatusCode.INVALID_ARGUMENT, str(c))
    c, _ = code_of(lambda: stub.Export(logs_req("x", 1), metadata=(("x-glassflow-pipeline-id", "nope-nope"),), timeout=10))
    check("unknown pipeline -> NOT_FOUND", c == grpc.StatusCode.NOT_FOUND, str(c))
    c, e = code_of(lambda: stub.Export(logs_req("x", 1), metadata=(("x-glassflow-pipeline-id", "otel-traces"),), timeout=10))
    check("wrong signal -> INVALID_ARGUMENT naming both", c == grpc.StatusCode.INVALID_ARGUMENT and
          "otlp.traces" in e.details() and "otlp.logs" in e.details(), str(c))
    raw = channel.unary_unary("/opentelemetry.proto.collector.logs.v1.LogsService/Export")
    c, _ = code_of(lambda: raw(b"\x0a\xff\xff", metadata=md, timeout=10))
    check("undecodable -> INVALID_ARGUMENT", c == grpc.StatusCode.INVALID_ARGUMENT, str(c))
    c, _ = code_of(lambda: raw(b"\x0a" + b"\x00" * (MAX_REQUEST + 10), metadata=md, timeout=10))
    check("over the limit -> RESOURCE_EXHAUSTED", c == grpc.StatusCode.RESOURCE_EXHAUSTED, str(c))
    c, _ = code_of(lambda: raw(b"\x0a" + b"\x00" * (MAX_REQUEST + 10), metadata=md, timeout=10,
                               compression=grpc.Compression.Gzip))
    check("over the limit after gzip decompression -> RESOURCE_EXHAUSTED", c == grpc.StatusCode.RESOURCE_EXHAUSTED,
          str(c))
    # Sluice inflates gRPC messages itself (gRPC core's inflation is off), recognizing gzip
    # by its magic bytes: a broken gzip stream is a bad request, not a crash or a protobuf.
    gz = gzip.compress(logs_req("py-gz-cut", 1).SerializeToString())
    c, e = code_of(lambda: raw(gz[:len(gz) // 2], metadata=md, timeout=10))
    check("truncated gzip message -> INVALID_ARGUMENT", c == grpc.StatusCode.INVALID_ARGUMENT
          and "compressed" in e.details(), str(c))
    c, _ = code_of(lambda: raw(b"", metadata=md, timeout=10))
    check("empty request -> OK", c == grpc.StatusCode.OK, str(c))
    c, _ = code_of(lambda: channel.unary_unary("/opentelemetry.proto.collector.logs.v1.LogsService/Nope")(
        b"", metadata=md, timeout=10))
    check("unknown method -> UNIMPLEMENTED", c == grpc.StatusCode.UNIMPLEMENTED, str(c))
    health = channel.unary_unary("/grpc.health.v1.Health/Check")
    resp = health(b"", timeout=10)
    check("grpc.health.v1 Check -> SERVING", decode_fields(resp).get(1) == [1], repr(resp))
    return channel, stub, logs_req, md


def test_loadgen():
    print("sluice-loadgen against Sluice: what it reports as acknowledged is exactly what lands")
    loadgen = os.path.join(os.path.dirname(SLUICE), "sluice-loadgen")
    tables = {"logs": [("otel_logs", "LogAttributes")], "traces": [("otel_traces", "SpanAttributes")],
              "metrics": [(f"otel_metrics_{k}", "Attributes") for k in
                          ("gauge", "sum", "histogram", "exponential_histogram", "summary")]}
    # (signal, protocol, encoding, compression, requests in flight per connection)
    cases = [("logs", "grpc", "protobuf", "none", 1), ("logs", "http", "json", "gzip", 1),
             ("traces", "grpc", "protobuf", "gzip", 1), ("traces", "http", "protobuf", "none", 1),
             ("metrics", "http", "json", "none", 1), ("metrics", "grpc", "protobuf", "gzip", 1),
             ("logs", "grpc", "protobuf", "none", 4), ("logs", "http", "protobuf", "none", 3)]
    for run, (sig, proto, enc, comp, streams) in enumerate(cases, start=0x7e00):
        out = os.path.join(DATA, f"loadgen-{run}.json")
        r = subprocess.run([loadgen, f"--http_port={HTTP_PORT}", f"--grpc_port={GRPC_PORT}",
                            f"--pipeline=otel-{sig}", f"--signal={sig}", f"--protocol={proto}",
                            f"--encoding={enc}", f"--compression={comp}", "--records=50",
                            "--connections=2", f"--streams={streams}", "--rate=1500", "--duration=1",
                            f"--run={run}", f"--json={out}"], capture_output=True, text=True)
        rep = json.load(open(out)) if os.path.exists(out) else {}
        name = (f"{sig} over {proto}/{enc}" + ("+gzip" if comp == "gzip" else "")
                + (f", {streams} streams per connection" if streams > 1 else ""))
        # 2 connections x 1 s at 1500 records/s in 50-record requests: each connection's
        # schedule has 15 requests due, whichever of its streams sends them.
        check(f"loadgen {name}: the open-loop schedule sent 30 requests",
              rep.get("requests_sent") == 30 and rep.get("streams") == streams, str(rep.get("requests_sent")))
        # The e2e server's buffer is small on purpose (256 KiB): it may throttle, and the
        # load generator must count that by status, not as acknowledged.
        allowed = {"grpc OK", "http 200", "grpc UNAVAILABLE", "http 429"}
        ok = rep.get("status", {}).get("grpc OK", 0) + rep.get("status", {}).get("http 200", 0)
        check(f"loadgen {name}: answered with success or a throttle, counted by status",
              r.returncode == 0 and set(rep["status"]) <= allowed and ok > 0
              and rep["records_acked"] == ok * 50 and sum(rep["status"].values()) == rep["requests_sent"],
              f"rc {r.returncode}, {rep.get('status')}, {r.stderr[-300:]}")
        want = rep.get("records_acked", -1)
        union = " UNION ALL ".join(
            f"SELECT {col}.value[indexOf({col}.key, 'loadgen.id')] AS id FROM otel.{t}" for t, col in tables[sig])
        sql = f"SELECT uniqExact(id) FROM ({union}) WHERE startsWith(id, '{run:04x}-')"
        check(f"loadgen {name}: every acknowledged record landed, by id ({want})", wait_rows(sql, want, 30))


def test_overload(grpc_parts):
    print("overload: ClickHouse frozen -> 429 + Retry-After / UNAVAILABLE + RetryInfo; nothing acknowledged is lost")
    import grpc
    channel, stub, logs_req, md = grpc_parts
    ch_pid = int(open(os.path.join(DATA, "clickhouse", "pid")).read())
    os.kill(ch_pid, signal.SIGSTOP)
    acked, got429, retry_after = 0, False, None
    try:
        big = logs_json("overload", 200, [{"key": "pad", "value": {"stringValue": "x" * 200}}])
        for i in range(400):
            st, hd, resp = post("/v1/logs", big, H("otel-logs"))
            if st == 200:
                acked += 200
            elif st == 429:
                got429, retry_after = True, hd.get("retry-after")
                break
        check("HTTP 429 once the pipeline's queue is full", got429, f"acked {acked}")
        check("Retry-After on 429", retry_after == "1", str(retry_after))
        try:
            stub.Export(logs_req("overload-grpc", 3000), metadata=md, timeout=10)
            check("gRPC UNAVAILABLE when overloaded", False, "call succeeded")
        except grpc.RpcError as e:
            details = dict(e.trailing_metadata() or ()).get("grpc-status-details-bin")
            code, _, det = rpc_status(details) if details else (None, None, [])
            has_retry = any(d.get(1, [b""])[0] == b"type.googleapis.com/google.rpc.RetryInfo" for d in det)
            check("gRPC UNAVAILABLE (not RESOURCE_EXHAUSTED) when overloaded", e.code() == grpc.StatusCode.UNAVAILABLE,
                  str(e.code()))
            check("gRPC status details carry RetryInfo", code == 14 and has_retry, repr(details))
    finally:
        os.kill(ch_pid, signal.SIGCONT)
    check("after ClickHouse resumes, every acknowledged record lands", wait_rows(
        "SELECT count() FROM otel.otel_logs WHERE has(LogAttributes.value, 'overload')", acked, timeout=120))


def test_dead_letters():
    print("rows ClickHouse rejects go to the dead-letter queue; the rest of the batch lands")
    ch("CREATE TABLE otel.dlq_spans (SpanName String, Ev Nested(Name String, Tid String)) "
       "ENGINE = MergeTree ORDER BY SpanName")
    doc = json.load(open(os.path.join(DATA, "pipelines", "otel-traces.json")))
    doc["pipeline_id"] = "dlq-traces"
    doc["sink"]["table"] = "dlq_spans"
    # Two arrays into one Nested: ClickHouse rejects rows where their lengths differ.
    doc["sink"]["mapping"] = [{"name": "name", "column_name": "SpanName", "column_type": "String"},
                              {"name": "events.name", "column_name": "Ev.Name", "column_type": "Array(String)"},
                              {"name": "links.trace_id", "column_name": "Ev.Tid", "column_type": "Array(String)"}]
    json.dump(doc, open(os.path.join(DATA, "pipelines", "dlq-traces.json"), "w"))
    procs["sluice"].send_signal(signal.SIGHUP)

    def span(name, events, links):
        return {"traceId": "4bf92f3577b34da6a3ce929d0e0e4736", "spanId": "00f067aa0ba902b7", "name": name,
                "events": [{"name": f"ev{i}"} for i in range(events)],
                "links": [{"traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "b7ad6b7169203331"}
                          for _ in range(links)]}
    body = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [
        span("good-1", 1, 1), span("bad", 1, 0), span("good-2", 0, 0), span("good-3", 2, 2)]}]}]}).encode()
    st = None
    st = post_until("/v1/traces", body, H("dlq-traces"), 200)
    check("the mixed batch is accepted", st == 200, str(st))
    check("the three good rows land", wait_rows("SELECT count() FROM otel.dlq_spans", 3, timeout=30))
    names = ch("SELECT SpanName FROM otel.dlq_spans ORDER BY SpanName FORMAT TabSeparated").split()
    check("only the good rows", names == ["good-1", "good-2", "good-3"], str(names))
    out = ""
    for _ in range(50):
        p = subprocess.run([SLUICE, "dlq", "--pipeline", "dlq-traces", "--data-dir", os.path.join(DATA, "sluice")],
                           capture_output=True, text=True)
        out = p.stdout.strip()
        if out:
            break
        time.sleep(0.2)
    lines = out.splitlines()
    entry = json.loads(lines[0]) if len(lines) == 1 else {}
    check("one dead letter", len(lines) == 1, out)
    check("it names the component, the reason and ClickHouse's error",
          entry.get("component") == "sink" and entry.get("reason") == "sink_rejection_190" and
          "Code: 190" in entry.get("error", ""), str(entry)[:300])
    orig = json.loads(entry.get("original_message", "{}"))
    check("it carries the flattened record", orig.get("name") == "bad" and len(orig.get("events", [])) == 1,
          entry.get("original_message", "")[:300])


def test_kill9():
    print("kill -9 while ClickHouse is frozen: every acknowledged record survives in the buffer")
    ch_pid = int(open(os.path.join(DATA, "clickhouse", "pid")).read())
    os.kill(ch_pid, signal.SIGSTOP)
    try:
        acked = 0
        for i in range(20):
            st, _, _ = post("/v1/logs", logs_json("kill9", 25), H("otel-logs"))
            if st == 200:
                acked += 25
        check("requests acknowledged while ClickHouse is frozen", acked > 0, str(acked))
        procs["sluice"].kill()
        procs["sluice"].wait()
        start_sluice()
    finally:
        os.kill(ch_pid, signal.SIGCONT)
    ok = wait_rows("SELECT count() >= %d FROM otel.otel_logs WHERE has(LogAttributes.value, 'kill9')" % acked,
                   1, timeout=120)
    distinct = ch("SELECT uniqExact(Timestamp, Body) FROM otel.otel_logs WHERE has(LogAttributes.value, 'kill9')").strip()
    total = ch("SELECT count() FROM otel.otel_logs WHERE has(LogAttributes.value, 'kill9')").strip()
    check("after the restart every acknowledged record is in ClickHouse", ok and int(distinct) == 25,
          f"acked {acked}, rows {total}, distinct {distinct}")
    print(f"       acknowledged {acked} records, {total} rows landed ({int(total) - acked} duplicates)")


def test_kill9_cycles(cycles=20):
    print(f"kill -9 at random moments under load, {cycles} cycles: no acknowledged record is lost, "
          "and replayed batches are cut exactly as before the crash")
    import random
    import re
    import threading
    import zlib as _z
    from insert_recorder import InsertRecorder
    # Its own pipeline, sending through a recording proxy, with small batches cut both by
    # size and by time.
    doc = json.load(open(os.path.join(DATA, "pipelines", "otel-logs.json")))
    doc["pipeline_id"] = "cycles-logs"
    doc["sink"]["connection_params"]["http_port"] = str(PROXY_PORT)
    batch_rows = 400  # at this load, batches are cut by the clock and by size
    doc["sink"]["max_batch_size"] = batch_rows
    doc["sink"]["max_delay_time"] = "100ms"
    json.dump(doc, open(os.path.join(DATA, "pipelines", "cycles-logs.json"), "w"))
    # Answers held back 0.2 s: at every crash some inserted batches are still unconfirmed,
    # so replays certainly happen.
    recorder = InsertRecorder(PROXY_PORT, CH_HTTP, pose_as="24.8.1.1", answer_delay=0.2).__enter__()
    procs["sluice"].send_signal(signal.SIGHUP)
    post_until("/v1/logs", b"", H("cycles-logs", "application/x-protobuf"), 200)
    rnd = random.Random(42)
    acked = {}  # uid -> crc of the body
    resent = set()  # uids of requests sent more than once (no answer, or not 200)
    lock = threading.Lock()
    stop = threading.Event()

    def sender(tid):
        n = 0
        conn = None
        pace = random.Random(tid)
        while not stop.is_set():
            recs, batch = [], {}
            for i in range(10):
                uid = f"c{tid}-{n:06d}-{i}"  # fixed width: found in RowBinary as b"\x0b" + uid
                body = f"record {uid} " + "x" * (i * 7)
                crc = str(_z.crc32(body.encode()))
                batch[uid] = crc
                recs.append({"timeUnixNano": str(1717171717000000000 + n * 10 + i),
                             "body": {"stringValue": body},
                             "attributes": [{"key": "uid", "value": {"stringValue": uid}},
                                            {"key": "crc", "value": {"stringValue": crc}},
                                            {"key": "test.run", "value": {"stringValue": "cycles"}}]})
            req = json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": recs}]}]}).encode()
            attempts = 0
            while not stop.is_set():  # like an exporter: retry the same request until answered 200
                attempts += 1
                if attempts == 2:
                    with lock:
                        resent.update(batch)
                try:
                    if conn is None:
                        conn = http.client.HTTPConnection("127.0.0.1", HTTP_PORT, timeout=5)
                    st, _, _ = post("/v1/logs", req, H("cycles-logs"), conn=conn)
                    if st == 200:
                        with lock:
                            acked.update(batch)
                        break
                except (OSError, http.client.HTTPException):
                    conn = None
                time.sleep(0.05)
            n += 1
            time.sleep(pace.uniform(0, 0.03))  # below the sink's capacity: the clock cuts too

    threads = [threading.Thread(target=sender, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    try:
        for c in range(cycles):
            time.sleep(rnd.uniform(0.2, 1.0))
            procs["sluice"].kill()
            procs["sluice"].wait()
            start_sluice()
    finally:
        time.sleep(0.5)
        stop.set()
        for t in threads:
            t.join()
    want = len(acked)
    check(f"records acknowledged across {cycles} crashes", want > 0, str(want))
    ok = wait_rows("SELECT uniqExact(LogAttributes.value[indexOf(LogAttributes.key, 'uid')]) FROM otel.otel_logs "
                   "WHERE has(LogAttributes.value, 'cycles')", want, timeout=120)
    rows = ch("SELECT LogAttributes.value[indexOf(LogAttributes.key, 'uid')], "
              "LogAttributes.value[indexOf(LogAttributes.key, 'crc')], Body FROM otel.otel_logs "
              "WHERE has(LogAttributes.value, 'cycles') FORMAT TabSeparated").splitlines()
    seen, bad = {}, 0
    for r in rows:
        uid, crc, body = r.split("\t")
        if str(_z.crc32(body.encode())) != crc:
            bad += 1
        seen[uid] = crc
    missing = [u for u, c in acked.items() if seen.get(u) != c]
    check("every acknowledged record is in ClickHouse, content intact", ok and not missing and bad == 0,
          f"missing {len(missing)} of {want}, corrupt {bad}")
    # An INSERT that carries a row some earlier INSERT carried must be a byte-identical
    # repeat of that INSERT (a batch replayed after a crash: same rows, same boundaries,
    # hence the same insert_deduplication_token on servers that take one and the same block
    # checksum that Replicated tables deduplicate by), unless the client itself sent the
    # row twice (it retried after a crash, so the row is in the buffer twice).
    time.sleep(0.5)
    inserts = recorder.snapshot()
    recorder.__exit__()
    bodies, carried = {}, set()  # INSERT body -> its token; every uid carried so far
    replays, time_cut, client_dups, mismatched, token_errors = 0, 0, 0, [], []
    for params, body, status in inserts:
        uids = re.findall(rb"\x0b(c\d-\d{6}-\d)", body)
        token = params.get("insert_deduplication_token")
        if body in bodies:
            replays += 1
            time_cut += len(uids) < batch_rows  # cut by the clock, yet rebuilt all the same
            if token != bodies[body]:
                token_errors.append(f"replay token {token} != {bodies[body]}")
            continue
        if token is None or token in bodies.values():
            token_errors.append(f"new batch with token {token}")
        known = [u for u in uids if u in carried]
        if known:
            client_dups += 1
            again = [u for u in known if u.decode() not in resent]
            if again:
                mismatched.append((uids[0], uids[-1], len(uids), again[:3]))
        bodies[body] = token
        carried.update(uids)
    check("INSERTs went through the recording proxy", len(carried) >= want,
          f"{len(carried)} of {want}")
    check("every replayed batch is a byte-identical repeat of its first INSERT", not mismatched,
          f"{len(mismatched)} INSERTs repeat rows in other boundaries: {mismatched[:3]}")
    check("a replayed batch carries its original insert_deduplication_token; new batches new ones",
          not token_errors, f"{len(token_errors)}: {token_errors[:3]}")
    check("crashes made Sluice replay batches (what the two checks above are about)", replays > 0,
          str(replays))
    dups = len(rows) - len(seen)
    print(f"       {want} records acknowledged, {len(rows)} rows, {dups} duplicates; "
          f"{len(inserts)} INSERTs, of which {replays} byte-identical replays of a batch "
          f"({time_cut} of them first cut by time) "
          f"(a deduplicating server drops them) and {client_dups} carrying rows the client "
          f"sent twice; {len(seen) - want} rows landed without an acknowledgement")


def rss_mib():
    for line in open(f"/proc/{procs['sluice'].pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    return -1


def test_clickhouse_outage(seconds=60):
    print(f"ClickHouse down for {seconds} s under load: the buffer absorbs it, nothing is lost")
    doc = json.load(open(os.path.join(DATA, "pipelines", "otel-logs.json")))
    doc["pipeline_id"] = "outage-logs"
    doc["resources"] = {"nats": {"stream": {"maxBytes": "64Mi"}}}
    json.dump(doc, open(os.path.join(DATA, "pipelines", "outage-logs.json"), "w"))
    procs["sluice"].send_signal(signal.SIGHUP)
    post_until("/v1/logs", b"", H("outage-logs", "application/x-protobuf"), 200)
    ch_dir = os.path.join(DATA, "clickhouse")
    rss_before = rss_mib()
    subprocess.run([os.path.join(ROOT, "scripts", "clickhouse"), "stop", ch_dir], check=True)
    statuses, acked = {}, 0
    deadline = time.time() + seconds
    i = 0
    try:
        while time.time() < deadline:
            st, _, _ = post("/v1/logs", logs_json(f"outage", 50), H("outage-logs"))
            statuses[st] = statuses.get(st, 0) + 1
            if st == 200:
                acked += 50
            i += 1
            time.sleep(0.05)
    finally:
        rss_during = rss_mib()
        backlog = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in
                      os.walk(os.path.join(DATA, "sluice", "pipelines", "outage-logs", "log")) for f in fs)
        subprocess.run([os.path.join(ROOT, "scripts", "clickhouse"), "start", ch_dir, *CH_PORTS],
                       check=True)
    check("no client was throttled: the buffer limit was not reached", set(statuses) == {200}, str(statuses))
    check("the backlog drains: every acknowledged record lands", wait_rows(
        "SELECT count() FROM otel.otel_logs WHERE has(LogAttributes.value, 'outage')", acked, timeout=120),
        f"acked {acked}")
    print(f"       {i} requests ({acked} records) during the outage: {statuses}")
    print(f"       sluice RSS {rss_before} MiB before, {rss_during} MiB with {backlog >> 20} MiB of backlog on disk")
    check("memory does not grow with the backlog (RSS under 300 MiB)", rss_during < 300, f"{rss_during} MiB")


def test_clickhouse_restart():
    print("ClickHouse stopped and restarted: inserts are retried, nothing acknowledged is lost")
    ch_dir = os.path.join(DATA, "clickhouse")
    subprocess.run([os.path.join(ROOT, "scripts", "clickhouse"), "stop", ch_dir], check=True)
    statuses = [post("/v1/logs", logs_json(f"restart", 10), H("otel-logs"))[0] for _ in range(5)]
    check("requests are acknowledged while ClickHouse is down", statuses == [200] * 5, str(statuses))
    time.sleep(1.5)  # let at least one insert fail and back off
    subprocess.run([os.path.join(ROOT, "scripts", "clickhouse"), "start", ch_dir, *CH_PORTS],
                   check=True)
    check("all 50 records land after the restart", wait_rows(
        "SELECT count() FROM otel.otel_logs WHERE has(LogAttributes.value, 'restart')", 50, timeout=90))
    log = open(os.path.join(DATA, "sluice.log")).read()
    check("the failed inserts were retried (logged)", "insert failed, retrying" in log)


def main():
    if not os.path.exists(SLUICE):
        print(f"{SLUICE} is missing: run make build")
        return 1
    # `e2e.py robustness` (or any group names) runs only those groups, for development.
    only = set(sys.argv[1:])
    groups = [
        ("core", lambda: (test_exact_log_row(), test_exact_trace_row(), test_exact_metric_rows(),
                          test_status_codes(), test_encodings(), test_curl(), test_reload(),
                          test_js_exporters())),
        ("clients", lambda: (test_loadgen(), test_overload(test_python_grpc()))),
        ("faults", lambda: (test_clickhouse_restart(), test_dead_letters(), test_kill9(),
                            test_kill9_cycles(), test_clickhouse_outage())),
        ("robustness", robustness.run_all),
        ("operations", operations.run_all),
        ("reach", reach.run_all),
        ("matrix", fault_matrix.run_all),
        ("security", security.run_all),
        ("api", api.run_all),
        ("transforms", transforms.run_all),
        ("console", console.run_all),
    ]
    try:
        start()
        for name, run in groups:
            if not only or name in only:
                run()
    except Exception as e:  # a crash is a failure, reported with the rest
        import traceback
        traceback.print_exc()
        check("e2e run completed", False, repr(e))
    finally:
        stop()
        if harness.Counts.failed:
            print("---- sluice.log (tail)")
            try:
                print("".join(open(os.path.join(DATA, "sluice.log")).readlines()[-40:]))
            except OSError:
                pass
    print(f"e2e: {harness.Counts.passed} passed, {harness.Counts.failed} failed")
    return 0 if harness.Counts.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
