"""Shared pieces of the end-to-end tests: assertions and counters, ClickHouse queries,
HTTP posts, a minimal protobuf reader for status bodies, request builders, the OTLP
protobuf classes (generated from Debian's protos), and Sluice instances of their own.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import http.client
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, ".data", "e2e")
CH_HTTP, CH_TCP = 18123, 19000
CH_HTTPS, CH_TCPS = 18443, 19440  # TLS; certificates in TLS_DIR (scripts/clickhouse makes them)
TLS_DIR = os.path.join(DATA, "clickhouse", "tls")
CH_PORTS = [str(p) for p in (CH_HTTP, CH_TCP, CH_HTTPS, CH_TCPS)]  # scripts/clickhouse start's
HTTP_PORT, GRPC_PORT, ADMIN_PORT = 14318, 14317, 14081
PROXY_PORT = 18124  # the recording proxy in front of ClickHouse
MAX_REQUEST = 1 << 20
SLUICE = os.environ.get("SLUICE_BIN", os.path.join(ROOT, "build", "release", "sluice"))


class Counts:
    passed = 0
    failed = 0


def run_tests(*tests):
    """Runs each test; a test that crashes is one failure, reported with the rest."""
    for t in tests:
        try:
            t()
        except Exception as e:
            import traceback
            traceback.print_exc()
            check(f"{t.__name__} completed", False, repr(e))


def check(name, cond, detail=""):
    if cond:
        Counts.passed += 1
        print(f"  ok   {name}")
    else:
        Counts.failed += 1
        print(f"  FAIL {name} {detail}")
    return cond

# ---------------------------------------------------------------- helpers

def ch(sql, port=None, **settings):
    req = urllib.parse.quote(sql) + "".join(f"&{k}={urllib.parse.quote(str(v))}" for k, v in settings.items())
    conn = http.client.HTTPConnection("127.0.0.1", port or CH_HTTP, timeout=30)
    conn.request("POST", "/?query=" + req, body=b"")
    r = conn.getresponse()
    body = r.read().decode()
    if r.status != 200:
        raise RuntimeError(f"ClickHouse {r.status}: {body}")
    return body


def post(path, body, headers, chunked=False, method="POST", conn=None, port=None, ssl_context=None):
    """One request; over HTTPS when `ssl_context` (a client ssl.SSLContext) is given."""
    own = conn is None
    if own:
        if ssl_context is not None:
            conn = http.client.HTTPSConnection("127.0.0.1", port or HTTP_PORT, timeout=30, context=ssl_context)
        else:
            conn = http.client.HTTPConnection("127.0.0.1", port or HTTP_PORT, timeout=30)
    if chunked:
        conn.putrequest(method, path)
        for k, v in headers.items():
            conn.putheader(k, v)
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        for i in range(0, len(body), 7):
            part = body[i:i + 7]
            conn.send(b"%x\r\n%s\r\n" % (len(part), part))
        conn.send(b"0\r\n\r\n")
    else:
        conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    data = r.read()
    out = (r.status, {k.lower(): v for k, v in r.getheaders()}, data)
    if own:
        conn.close()
    return out


def varint(buf, i):
    v, shift = 0, 0
    while True:
        b = buf[i]
        i += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return v, i


def decode_fields(buf):
    """Minimal protobuf reader: {field: [values]} (varints as int, LEN as bytes)."""
    out, i = {}, 0
    while i < len(buf):
        tag, i = varint(buf, i)
        f, wt = tag >> 3, tag & 7
        if wt == 0:
            v, i = varint(buf, i)
        elif wt == 2:
            n, i = varint(buf, i)
            v, i = buf[i:i + n], i + n
        elif wt == 1:
            v, i = buf[i:i + 8], i + 8
        elif wt == 5:
            v, i = buf[i:i + 4], i + 4
        else:
            raise ValueError("bad wire type")
        out.setdefault(f, []).append(v)
    return out


def rpc_status(body):
    f = decode_fields(body)
    details = [decode_fields(d) for d in f.get(3, [])]
    return f.get(1, [0])[0], f.get(2, [b""])[0].decode(), details


def post_until(path, body, headers, want, method="POST", tries=100, port=None, ssl_context=None):
    """Sends the request every 0.1 s until it is answered `want` (a server starting, a
    pipeline being added or removed); returns the last status (None: no answer)."""
    st = None
    for _ in range(tries):
        try:
            st = post(path, body, headers, method=method, port=port, ssl_context=ssl_context)[0]
        except OSError:
            st = None
        if st == want:
            break
        time.sleep(0.1)
    return st


def wait_loaded(port, tries=200, ssl_context=None):
    """Waits until the server listens and has loaded its pipelines: /readyz answers 200,
    or 503 naming pipelines that are not running (a test's failing pipeline). /readyz is
    on the OTLP/HTTP port and on the admin port (which needs no token for it)."""
    for _ in range(tries):
        try:
            st, _, body = post("/readyz", b"", {}, method="GET", port=port, ssl_context=ssl_context)
            if st == 200 or (st == 503 and b'"pipelines"' in body):
                return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def metric(m, name, **labels):
    """One sample of a Sluice.metrics() result (0 when absent)."""
    return m.get((name, tuple(sorted(labels.items()))), 0)


def wait_rows(sql, want, timeout=15, port=None):
    deadline = time.time() + timeout
    got = None
    while time.time() < deadline:
        got = ch(sql, port=port).strip()
        if got == str(want):
            return True
        time.sleep(0.2)
    print(f"       waited for {sql!r} = {want}, last {got!r}")
    return False


def node_send(signal_, protocol, gzip_, count, run, pipeline, http_port=None, grpc_port=None):
    cmd = ["node", os.path.join(ROOT, "tests", "clients", "send.mjs"), "--signal", signal_,
           "--protocol", protocol, "--count", str(count), "--run", run, "--pipeline", pipeline,
           "--http", f"http://127.0.0.1:{http_port or HTTP_PORT}",
           "--grpc", f"http://127.0.0.1:{grpc_port or GRPC_PORT}"]
    if gzip_:
        cmd.append("--gzip")
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    return p.returncode == 0, (p.stdout + p.stderr).strip()[-400:]


def node_send_ext(signal_, protocol, count, run, pipeline, http_port=None, grpc_port=None, gzip_=False,
                  ca=None, cert=None, key=None, token=None, timeout_ms=None, headers=None):
    """node_send with TLS and credentials: `ca` (PEM file; the URLs become https://) makes
    the exporter trust that CA, `cert`/`key` present a client certificate, `token` is sent
    as `Authorization: Bearer` (header or gRPC metadata), `headers` ({name: value}) are sent
    besides; `timeout_ms` bounds the export, retries included (default 10 s). Returns
    (ok, the client's JSON report or its output)."""
    scheme = "https" if ca else "http"
    cmd = ["node", os.path.join(ROOT, "tests", "clients", "send.mjs"), "--signal", signal_,
           "--protocol", protocol, "--count", str(count), "--run", run, "--pipeline", pipeline,
           "--http", f"{scheme}://127.0.0.1:{http_port or HTTP_PORT}",
           "--grpc", f"{scheme}://127.0.0.1:{grpc_port or GRPC_PORT}"]
    for flag, value in (("--ca", ca), ("--cert", cert), ("--key", key), ("--token", token),
                        ("--timeout", timeout_ms)):
        if value is not None:
            cmd += [flag, str(value)]
    for k, v in (headers or {}).items():
        cmd += ["--header", f"{k}={v}"]
    if gzip_:
        cmd.append("--gzip")
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    return p.returncode == 0, (p.stdout + p.stderr).strip()[-600:]


# ---------------------------------------------------------------- requests used by tests

def logs_json(run, n=1, extra_attrs=None):
    recs = []
    for i in range(n):
        attrs = [{"key": "seq", "value": {"intValue": str(i)}},
                 {"key": "test.run", "value": {"stringValue": run}}]
        recs.append({
            "timeUnixNano": str(1717171717000000000 + i), "observedTimeUnixNano": "1717171718000000000",
            "severityNumber": 17, "severityText": "ERROR", "body": {"stringValue": f"{run} #{i}"},
            "attributes": attrs + (extra_attrs or []), "flags": 1,
            "traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "b7ad6b7169203331",
            "eventName": "checkout.failed"})
    return json.dumps({"resourceLogs": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "checkout"}}]},
        "schemaUrl": "https://opentelemetry.io/schemas/1.26.0",
        "scopeLogs": [{"scope": {"name": "com.example", "version": "2.3.1",
                                 "attributes": [{"key": "lib", "value": {"boolValue": True}}]},
                       "logRecords": recs}]}]}).encode()


def H(pipeline=None, ctype="application/json", **extra):
    h = {"content-type": ctype}
    if pipeline:
        h["x-glassflow-pipeline-id"] = pipeline
    h.update(extra)
    return h




def otlp_pb():
    """The OTLP protobuf modules (logs, trace, metrics services), generated once from
    Debian's protos with protoc."""
    gen = os.path.join(DATA, "gen")
    if not os.path.exists(os.path.join(gen, "opentelemetry")):
        os.makedirs(gen, exist_ok=True)
        protos = ["opentelemetry/proto/common/v1/common.proto", "opentelemetry/proto/resource/v1/resource.proto",
                  "opentelemetry/proto/logs/v1/logs.proto", "opentelemetry/proto/trace/v1/trace.proto",
                  "opentelemetry/proto/metrics/v1/metrics.proto",
                  "opentelemetry/proto/collector/logs/v1/logs_service.proto",
                  "opentelemetry/proto/collector/trace/v1/trace_service.proto",
                  "opentelemetry/proto/collector/metrics/v1/metrics_service.proto"]
        subprocess.run(["protoc", "-I/usr/include", f"--python_out={gen}"] + protos, check=True)
    if gen not in sys.path:
        sys.path.insert(0, gen)
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2 as ls
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as ts
    from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2 as ms
    return ls, ts, ms


def logs_request(run, n, service):
    """An ExportLogsServiceRequest message: n records with bodies "<run> <i>" and the
    attribute test.run = run, from service.name `service`."""
    ls = otlp_pb()[0]
    req = ls.ExportLogsServiceRequest()
    rl = req.resource_logs.add()
    a = rl.resource.attributes.add()
    a.key, a.value.string_value = "service.name", service
    sl = rl.scope_logs.add()
    for i in range(n):
        r = sl.log_records.add()
        r.time_unix_nano = 1717171717000000000 + i
        r.body.string_value = f"{run} {i}"
        kv = r.attributes.add()
        kv.key, kv.value.string_value = "test.run", run
    return req


def logs_pipeline(pipeline_id, ch_http_port=None, **sink):
    """The example logs pipeline (otel.otel_logs) under another id."""
    doc = json.load(open(os.path.join(ROOT, "examples", "pipelines", "otel-logs.json")))
    doc["pipeline_id"] = pipeline_id
    doc["sink"]["connection_params"]["http_port"] = str(ch_http_port or CH_HTTP)
    doc["sink"]["max_delay_time"] = "200ms"
    doc["sink"].update(sink)
    return doc


class Sluice:
    """A `sluice serve` of its own for one test: its own ports, data directory,
    pipelines and server config, under DATA/<name>."""

    def __init__(self, name, pipelines, config=None, http_port=15318, grpc_port=15317,
                 fresh=True, prefix=(), client_tls=None, admin_token=None, wait_headers=None):
        """`client_tls`: {"http": ssl.SSLContext, "admin": ...}, the client contexts for
        listeners that have TLS (post(), admin(), start() use them); `admin_token`: the
        admin listener's token, sent by admin() and metrics() (default: the config's
        admin.token, when given inline); `wait_headers`: headers (credentials) that
        start()'s requests to its wait_pipeline carry."""
        self.name, self.http_port, self.grpc_port = name, http_port, grpc_port
        self.client_tls = dict(client_tls or {})
        self.wait_headers = dict(wait_headers or {})
        self.admin_port = http_port - 15318 + 15081
        self.dir = os.path.join(DATA, name)
        self.data_dir = os.path.join(self.dir, "data")
        self.prefix = list(prefix)  # e.g. ["prlimit", "--nofile=256:4096"]
        if fresh:
            shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(os.path.join(self.dir, "pipelines"), exist_ok=True)
        for doc in pipelines:
            self.put_pipeline(doc)
        cfg = {"http": {"address": "127.0.0.1", "port": http_port},
               "grpc": {"address": "127.0.0.1", "port": grpc_port},
               "admin": {"address": "127.0.0.1", "port": self.admin_port},
               "pipelines_dir": os.path.join(self.dir, "pipelines"), "data_dir": self.data_dir}
        for k, v in (config or {}).items():
            if isinstance(v, dict):
                cfg.setdefault(k, {}).update(v)
            else:
                cfg[k] = v
        self.config = cfg
        self.admin_token = admin_token if admin_token is not None else cfg["admin"].get("token")
        self.config_path = os.path.join(self.dir, "config.json")
        json.dump(cfg, open(self.config_path, "w"))
        self.proc = None

    def put_pipeline(self, doc):
        json.dump(doc, open(os.path.join(self.dir, "pipelines", doc["pipeline_id"] + ".json"), "w"))

    def start(self, wait_pipeline=None, env=None, wait=True):
        """Starts `sluice serve`; with `wait`, waits until /readyz answers: on the HTTP port,
        or on the admin port when the HTTP port has TLS (and then also on the HTTPS port
        when a client context for it was given). `wait_pipeline`: also until an empty
        request to that pipeline is answered 200 (carrying wait_headers; over HTTPS with
        client_tls["http"])."""
        log = open(os.path.join(self.dir, "sluice.log"), "a")
        self.proc = subprocess.Popen(self.prefix + [SLUICE, "serve", "--config", self.config_path],
                                     stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, **(env or {})))
        if not wait:
            return self
        http_tls = "tls" in self.config.get("http", {})
        if http_tls:
            wait_loaded(self.admin_port, ssl_context=self.client_tls.get("admin"))
        if not http_tls or self.client_tls.get("http"):
            wait_loaded(self.http_port, ssl_context=self.client_tls.get("http"))
        if wait_pipeline:  # pipelines read their table schemas asynchronously
            post_until("/v1/logs", b"", H(wait_pipeline, "application/x-protobuf", **self.wait_headers), 200,
                       port=self.http_port, tries=200, ssl_context=self.client_tls.get("http"))
        return self

    def post(self, path, body, headers, **kw):
        kw.setdefault("ssl_context", self.client_tls.get("http"))
        return post(path, body, headers, port=self.http_port, **kw)

    def stop(self, sig=signal.SIGTERM, timeout=60):
        """Sends `sig` and waits; returns (exit code, seconds it took), code None if it
        had to be killed."""
        if not self.proc or self.proc.poll() is not None:
            return (self.proc.returncode if self.proc else None), 0.0
        t0 = time.time()
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = None
        return rc, time.time() - t0

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def log(self):
        try:
            return open(os.path.join(self.dir, "sluice.log")).read()
        except OSError:
            return ""

    def admin(self, path, token=None):
        """GET on the admin listener: (status, parsed JSON or text). `token` (default:
        self.admin_token) is sent as `Authorization: Bearer`; "" sends none."""
        token = self.admin_token if token is None else token
        headers = {"authorization": f"Bearer {token}"} if token else {}
        st, _, body = post(path, b"", headers, method="GET", port=self.admin_port,
                           ssl_context=self.client_tls.get("admin"))
        try:
            return st, json.loads(body)
        except ValueError:
            return st, body.decode(errors="replace")

    def health(self, pipeline_id):
        st, doc = self.admin(f"/api/v1/pipeline/{pipeline_id}/health")
        return doc if st == 200 else None

    def wait_status(self, pipeline_id, want, timeout=30):
        """Polls the pipeline's health until its overall_status is `want` (Running,
        Failed, ...); returns the last health document (None on timeout)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            h = self.health(pipeline_id)
            if h and h["overall_status"] == want:
                return h
            time.sleep(0.1)
        print(f"       waited for {pipeline_id} to be {want}, last {self.health(pipeline_id)}")
        return None

    def metrics(self, token=None):
        """The /metrics page parsed by prometheus_client's text-format parser: a dict from
        (sample name, sorted label items) to value."""
        from prometheus_client.parser import text_string_to_metric_families
        st, text = self.admin("/metrics", token=token)
        assert st == 200, st
        out = {}
        for fam in text_string_to_metric_families(text):
            for smp in fam.samples:
                out[(smp.name, tuple(sorted(smp.labels.items())))] = smp.value
        return out

    def dlq(self, pipeline_id):
        r = subprocess.run([SLUICE, "dlq", "--pipeline", pipeline_id, "--data-dir", self.data_dir],
                           capture_output=True, text=True)
        return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]


# ---------------------------------------------------------------- protobuf by hand
# Large adversarial requests are built as bytes directly (the Python classes would take
# minutes for a million attributes).

def pb_varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def pb_len(field, payload):
    """A length-delimited field."""
    return pb_varint(field << 3 | 2) + pb_varint(len(payload)) + payload
