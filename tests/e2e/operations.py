"""Operating Sluice: metrics that move by exactly what happened, pipelines that heal
themselves (table missing, column dropped, wrong password), `sluice reload`, readiness,
gRPC health, the command line, and logs that tell the truth after an orderly stop.
Run with the rest by e2e.py (group "operations").
"""
import json
import os
import select
import socket
import subprocess
import threading
import time

import harness
from harness import (CH_HTTP, ROOT, SLUICE, Sluice, ch, check, logs_pipeline, metric, node_send,
                     post, wait_rows, H)

GATE_PORT = 18125  # a TCP forwarder to ClickHouse that a test can close


class Gate:
    """Forwards TCP to ClickHouse's HTTP port; close() refuses new connections and cuts
    the open ones (ClickHouse unreachable), open() lets them through again."""

    def __init__(self, port=GATE_PORT, upstream=CH_HTTP):
        self.port, self.upstream = port, upstream
        self.listener, self.conns, self.lock = None, [], threading.Lock()

    def open(self):
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(64)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()
        return self

    def _accept(self, listener):
        while True:
            try:
                c, _ = listener.accept()
            except OSError:
                return
            u = socket.create_connection(("127.0.0.1", self.upstream))
            with self.lock:
                self.conns += [c, u]
            threading.Thread(target=self._pipe, args=(c, u), daemon=True).start()

    def _pipe(self, a, b):
        try:
            while True:
                r, _, _ = select.select([a, b], [], [], 1)
                for x in r:
                    data = x.recv(65536)
                    if not data:
                        raise OSError
                    (b if x is a else a).sendall(data)
        except OSError:
            for x in (a, b):
                try:
                    x.close()
                except OSError:
                    pass

    def close(self):
        if self.listener:
            try:  # wakes the thread blocked in accept(): a close alone would not
                self.listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.listener.close()
            self.listener = None
        with self.lock:
            for c in self.conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                    c.close()
                except OSError:
                    pass
            self.conns = []


def ops_pipeline(pipeline_id, table, port=None, **extra):
    """A logs pipeline into ops.<table> (Body String, Sev String, SevNum UInt8)."""
    doc = logs_pipeline(pipeline_id, port)
    doc["sink"]["connection_params"]["database"] = "ops"
    doc["sink"]["table"] = table
    doc["sink"]["mapping"] = [
        {"name": "body", "column_name": "Body", "column_type": "String"},
        {"name": "severity_text", "column_name": "Sev", "column_type": "String"},
        {"name": "severity_number", "column_name": "SevNum", "column_type": "UInt8"}]
    doc.update(extra)
    return doc


def create_table(table):
    ch("CREATE DATABASE IF NOT EXISTS ops")
    ch(f"DROP TABLE IF EXISTS ops.{table}")
    ch(f"CREATE TABLE ops.{table} (Body String, Sev String, SevNum UInt8) ENGINE = MergeTree ORDER BY Body")


def logs(run, n, sev_num=9):
    """n records with bodies '<run> #i'; sev_num may be a list (one per record)."""
    nums = sev_num if isinstance(sev_num, list) else [sev_num] * n
    recs = [{"timeUnixNano": str(1717171717000000000 + i), "severityText": "INFO",
             "severityNumber": nums[i], "body": {"stringValue": f"{run} #{i}"}} for i in range(n)]
    return json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": recs}]}]}).encode()


# ---------------------------------------------------------------- metrics

def test_metrics_move_exactly():
    print("/metrics: every counter moves by exactly what happened (real OTLP clients)")
    create_table("m1")
    gate = Gate().open()
    pid = "ops-metrics"
    s = Sluice("ops-metrics", [ops_pipeline(pid, "m1", GATE_PORT)]).start(pid)
    try:
        m0 = s.metrics()
        L = dict(pipeline_id=pid)
        ok_h, out_h = node_send("logs", "http/protobuf", False, 5, "opsm-h", pid, s.http_port, s.grpc_port)
        ok_g, out_g = node_send("logs", "grpc", True, 4, "opsm-g", pid, s.http_port, s.grpc_port)
        check("the OpenTelemetry JS exporters (http/protobuf, grpc+gzip) export", ok_h and ok_g, out_h + out_g)
        # Python: 3 records of which one does not fit UInt8 (a dead letter), and refusals.
        st1 = s.post("/v1/logs", logs("opsm-p", 3, [9, 300, 17]), H(pid))[0]
        st2 = s.post("/v1/traces", logs("opsm-x", 1), H(pid))[0]            # wrong signal
        st3 = s.post("/v1/logs", logs("opsm-x", 1), H("ops-nope"))[0]        # unknown pipeline
        st4 = s.post("/v1/logs", logs("opsm-x", 1), H(pid, ctype="text/plain"))[0]
        check("answers 200, 400, 404, 415", (st1, st2, st3, st4) == (200, 400, 404, 415), str((st1, st2, st3, st4)))
        check("11 rows land", wait_rows(f"SELECT count() FROM ops.m1 WHERE Body LIKE 'run=opsm-%' OR Body LIKE 'opsm-p%'", 11))
        time.sleep(0.5)
        m1 = s.metrics()
        d = lambda name, **kw: metric(m1, name, **kw) - metric(m0, name, **kw)
        check("accepted log records: 5 + 3 over HTTP, 4 over gRPC",
              d("otelcol_receiver_accepted_log_records_total", receiver="otlp", transport="http", **L) == 8
              and d("otelcol_receiver_accepted_log_records_total", receiver="otlp", transport="grpc", **L) == 4,
              str((d("otelcol_receiver_accepted_log_records_total", receiver="otlp", transport="http", **L),
                   d("otelcol_receiver_accepted_log_records_total", receiver="otlp", transport="grpc", **L))))
        check("sent: 11 rows; send_failed: 1 (the dead letter)",
              d("otelcol_exporter_sent_log_records_total", exporter="clickhouse", **L) == 11 and
              d("otelcol_exporter_send_failed_log_records_total", exporter="clickhouse", **L) == 1)
        check("gfm_clickhouse_records_written: 11", d("gfm_clickhouse_records_written_total", **L) == 11)
        check("gfm_dlq_records_written{reason=schema_mismatch}: 1",
              d("gfm_dlq_records_written_total", reason="schema_mismatch", **L) == 1)
        req = dict(component="otlp.logs", **L)
        check("requests by wire status: http 200 x2 (JS + Python), 400 x1; grpc OK x1",
              d("gfm_receiver_request_count_total", transport="http", status="ok", code="200", **req) == 2 and
              d("gfm_receiver_request_count_total", transport="http", status="error", code="400", **req) == 1 and
              d("gfm_receiver_request_count_total", transport="grpc", status="ok", code="OK", **req) == 1)
        un = dict(component="", pipeline_id="", transport="http", status="error")
        check("requests routed to no pipeline: 404 x1, 415 x1 (pipeline_id=\"\")",
              d("gfm_receiver_request_count_total", code="404", **un) == 1 and
              d("gfm_receiver_request_count_total", code="415", **un) == 1)
        check("the duration histogram counts the same requests",
              d("gfm_receiver_request_duration_seconds_count", transport="http", status="ok", code="200", **req) == 2)
        check("acknowledgement latency: one observation per stored request (3)",
              d("sluice_ack_latency_seconds_count", **L) == 3)
        check("buffer syncs: one fdatasync per commit group (3 requests one after another: 3)",
              d("sluice_buffer_sync_duration_seconds_count", **L) == 3
              and d("sluice_buffer_sync_duration_seconds_bucket", le="+Inf", **L) == 3
              and d("sluice_buffer_sync_duration_seconds_sum", **L) > 0,
              str(d("sluice_buffer_sync_duration_seconds_count", **L)))
        check("batch sizes add up to the rows sent (11)", d("gfm_sink_batch_size_records_sum", **L) == 11)
        log = s.log()
        check("the dead letter is logged with the column, the field and the value",
              "dead letter (schema_mismatch): record 1: column 'SevNum' from 'severity_number': 300 does not fit UInt8" in log,
              log[-600:])
        # Retries: ClickHouse unreachable (the gate closed) while rows wait.
        gate.close()
        st = s.post("/v1/logs", logs("opsm-r", 2), H(pid))[0]
        time.sleep(2.5)
        mid = s.metrics()
        gate.open()
        check("retried rows land once ClickHouse is back", st == 200 and wait_rows(
            "SELECT count() FROM ops.m1 WHERE Body LIKE 'opsm-r%'", 2, 30))
        m2 = s.metrics()
        conn = (metric(m2, "sluice_insert_retries_total", **{"class": "connection"}, **L) -
                metric(m0, "sluice_insert_retries_total", **{"class": "connection"}, **L))
        logged = s.log().count(f"pipeline {pid}: insert failed, retrying")
        check(f"insert retries by class: connection = the retries logged ({conn} = {logged}, > 0)",
              conn == logged and conn > 0, str((conn, logged)))
        check("the queue held the waiting rows' bytes meanwhile",
              metric(mid, "otelcol_exporter_queue_size", exporter="clickhouse", **L) > 0 and
              metric(mid, "sluice_buffer_records", **L) == 2)
        check("queue_size is back to 0 once they landed",
              metric(m2, "otelcol_exporter_queue_size", exporter="clickhouse", **L) == 0)
        check("process figures and build info are there",
              metric(m2, "process_resident_memory_bytes") > 0 and metric(m2, "process_open_fds") > 0 and
              metric(m2, "sluice_build_info", version="0.1.0") == 1)
        st, doc = s.admin(f"/api/v1/pipeline/{pid}/health")
        check("health in GlassFlow's shape, with live figures",
              st == 200 and doc["pipeline_id"] == pid and doc["overall_status"] == "Running" and
              doc["stats"]["rows_written"] == 13 and doc["stats"]["dead_letters"] == {"schema_mismatch": 1}
              and doc["stats"]["last_insert_at"] is not None, str(doc)[:400])
        st, lst = s.admin("/api/v1/pipeline")
        check("the pipeline list in GlassFlow's shape",
              st == 200 and [p["pipeline_id"] for p in lst] == [pid] and lst[0]["status"] == "Running" and
              "transformation_type" in lst[0], str(lst)[:300])
        st, doc = s.admin("/api/v1/pipeline/ops-nope/health")
        check("health of an unknown pipeline: 404 with GlassFlow's error body",
              st == 404 and doc["code"] == "not_found", str(doc))
    finally:
        s.stop()
        gate.close()


# ---------------------------------------------------------------- self-healing

def test_table_missing_heals():
    print("a pipeline whose table is missing: Failed, buffering; the table created: Running, everything lands")
    ch("CREATE DATABASE IF NOT EXISTS ops")
    ch("DROP TABLE IF EXISTS ops.heal")
    pid = "ops-heal"
    doc = ops_pipeline(pid, "heal", resources={"nats": {"stream": {"maxBytes": "8Ki"}}})
    s = Sluice("ops-heal", [doc]).start()
    try:
        h = s.wait_status(pid, "Failed")
        check("Failed, with the reason in its health", h is not None and "heal" in (h["stats"]["reason"] or ""), str(h))
        st, ready = s.admin("/readyz")
        st2, _, body2 = post("/readyz", b"", {}, method="GET", port=s.http_port)
        check("/readyz is 503 and names the pipeline (admin and 4318)",
              st == 503 and pid in ready["pipelines"] and st2 == 503 and pid.encode() in body2, str(ready))
        st3 = post("/readyz?scope=listeners", b"", {}, method="GET", port=s.http_port)[0]
        check("/readyz?scope=listeners (for load balancers) is 200: the listeners are up", st3 == 200, str(st3))
        out = subprocess.run([SLUICE, "status", "--admin", f"127.0.0.1:{s.admin_port}"], capture_output=True, text=True)
        check("`sluice status` shows it Failed with the reason",
              out.returncode == 0 and pid in out.stdout and "Failed" in out.stdout and "heal" in out.stdout, out.stdout)
        m0 = s.metrics()
        accepted, st = 0, 200
        for i in range(200):  # its buffer (8 KiB) takes some, then refuses
            st, hd, body = s.post("/v1/logs", logs(f"heal-{i}", 5), H(pid))
            if st != 200:
                break
            accepted += 5
        check(f"a failed pipeline buffers ({accepted} records), then answers 503 + Retry-After when full",
              accepted > 0 and st == 503 and hd.get("retry-after") == "5", f"{st} {body[:200]!r}")
        m1 = s.metrics()
        L = dict(receiver="otlp", transport="http", pipeline_id=pid)
        check("refused log records: the 5 of the refused request",
              metric(m1, "otelcol_receiver_refused_log_records_total", **L) -
              metric(m0, "otelcol_receiver_refused_log_records_total", **L) == 5)
        check("its state in the metrics is Failed",
              metric(m1, "sluice_pipeline_state", pipeline_id=pid, state="Failed") == 1)
        create_table("heal")
        check("the table created: Running again without any signal", s.wait_status(pid, "Running", 40) is not None)
        check(f"every acknowledged record lands ({accepted})", wait_rows(
            "SELECT count() FROM ops.heal WHERE Body LIKE 'heal-%'", accepted, 30))
        st, ready = s.admin("/readyz")
        check("/readyz is 200 again", st == 200, str(ready))
        log = s.log()
        check("the reason is logged once, not at every attempt",
              log.count(f"pipeline {pid}: cannot start") == 1, str(log.count(f"pipeline {pid}: cannot start")))
    finally:
        s.stop()


def test_reload_restarts_a_failed_pipeline():
    print("`sluice reload` restarts a failed pipeline whose file did not change")
    ch("CREATE DATABASE IF NOT EXISTS ops")
    ch("DROP TABLE IF EXISTS ops.reload")
    pid = "ops-reload"
    s = Sluice("ops-reload", [ops_pipeline(pid, "reload")]).start()
    try:
        check("Failed (no table)", s.wait_status(pid, "Failed") is not None)
        st = s.post("/v1/logs", logs("reload", 4), H(pid))[0]
        time.sleep(7)  # its checks are now 6.4 s apart, the next one some seconds away
        create_table("reload")
        t0 = time.time()
        out = subprocess.run([SLUICE, "reload", "--data-dir", s.data_dir], capture_output=True, text=True)
        h = s.wait_status(pid, "Running", 10)
        took = time.time() - t0
        check(f"reload answers and the pipeline runs at once ({took:.1f} s, before its next check)",
              out.returncode == 0 and h is not None and took < 2.5, out.stdout + out.stderr)
        check("its buffered rows land", st == 200 and wait_rows("SELECT count() FROM ops.reload WHERE Body LIKE 'reload #%'", 4))
        check("the log says why", "is not running: trying it again now" in s.log())
        rc, _ = s.stop()
        out = subprocess.run([SLUICE, "reload", "--data-dir", s.data_dir], capture_output=True, text=True)
        check("reload with no server running: exit 1, says so",
              out.returncode == 1 and "no server found" in out.stderr, out.stderr)
    finally:
        s.stop()


def users_d():
    return os.path.join(harness.DATA, "clickhouse", "users.d")


def set_user_password(password):
    os.makedirs(users_d(), exist_ok=True)
    with open(os.path.join(users_d(), "sluice-ops.xml"), "w") as f:
        f.write(f"""<yandex><users><opsuser><password>{password}</password>
<networks><ip>::/0</ip></networks><profile>default</profile><quota>default</quota>
</opsuser></users></yandex>""")


def test_wrong_password_heals():
    print("a wrong password: Failed; users.xml fixed: Running without a signal")
    create_table("pw")
    set_user_password("old-secret")
    time.sleep(4)  # ClickHouse reloads its users every few seconds
    pid = "ops-password"
    doc = ops_pipeline(pid, "pw")
    doc["sink"]["connection_params"].update(username="opsuser", password="new-secret")
    s = Sluice("ops-password", [doc]).start()
    try:
        h = s.wait_status(pid, "Failed")
        check("Failed with ClickHouse's authentication error",
              h is not None and ("password" in h["stats"]["reason"].lower() or "193" in h["stats"]["reason"]), str(h))
        st = s.post("/v1/logs", logs("pw", 3), H(pid))[0]
        set_user_password("new-secret")
        check("users.xml fixed: Running by itself", s.wait_status(pid, "Running", 60) is not None)
        check("the rows buffered meanwhile land", st == 200 and wait_rows("SELECT count() FROM ops.pw WHERE Body LIKE 'pw #%'", 3, 30))
    finally:
        s.stop()
        try:
            os.remove(os.path.join(users_d(), "sluice-ops.xml"))
        except OSError:
            pass


# ---------------------------------------------------------------- health, logs

def test_unloadable_file_and_head():
    print("a pipeline file that cannot be loaded: its id answers 503 (retry), not 404; HEAD; an empty config")
    s = Sluice("ops-unloadable", [])
    bad = ops_pipeline("ops-broken", "t")
    bad["sink"]["max_batch_sise"] = 5
    json.dump(bad, open(os.path.join(s.dir, "pipelines", "ops-broken.json"), "w"))
    open(os.path.join(s.dir, "pipelines", "garbled.json"), "w").write("{ not json")
    s.start()
    try:
        st, hd, body = s.post("/v1/logs", logs("x", 1), H("ops-broken"))
        check("its id: 503 + Retry-After naming the problem", st == 503 and hd.get("retry-after") == "5"
              and b"cannot load" in body, f"{st} {body[:200]!r}")
        st2 = s.post("/v1/logs", logs("x", 1), H("garbled"))[0]
        check("a file whose id cannot be read: its name stands for the id (503)", st2 == 503, str(st2))
        st3 = s.post("/v1/logs", logs("x", 1), H("ops-never-configured"))[0]
        check("an id no file names: 404", st3 == 404, str(st3))
        st, hd, body = post("/metrics", b"", {}, method="HEAD", port=s.admin_port)
        check("HEAD /metrics: 200, the length of the page, no body",
              st == 200 and int(hd.get("content-length", "0")) > 1000 and body == b"", f"{st} {hd}")
        st, hd, body = post("/healthz", b"", {}, method="GET", port=s.admin_port)
        check("the connection still works after it (keep-alive framing intact)", st == 200)
    finally:
        s.stop()
    empty = Sluice("ops-empty-config", [])
    open(empty.config_path, "w").write("# nothing set: defaults\n")
    env_ports = {"SLUICE_HTTP_PORT": str(empty.http_port), "SLUICE_GRPC_PORT": str(empty.grpc_port),
                 "SLUICE_ADMIN_PORT": str(empty.admin_port), "SLUICE_HTTP_ADDRESS": "127.0.0.1",
                 "SLUICE_GRPC_ADDRESS": "127.0.0.1", "SLUICE_DATA_DIR": empty.data_dir,
                 "SLUICE_PIPELINES_DIR": os.path.join(empty.dir, "pipelines")}
    empty.start(env=env_ports)
    try:
        check("a config file with only a comment starts the server with defaults",
              empty.proc.poll() is None and post("/healthz", b"", {}, method="GET", port=empty.http_port)[0] == 200)
    finally:
        empty.stop()


def test_grpc_health_per_service():
    print("grpc.health.v1: the server and each OTLP service report SERVING")
    import grpc
    s = Sluice("ops-grpc-health", []).start()
    try:
        ch_ = grpc.insecure_channel(f"127.0.0.1:{s.grpc_port}")
        check_ = ch_.unary_unary("/grpc.health.v1.Health/Check", request_serializer=None, response_deserializer=None)
        for service in ("", "opentelemetry.proto.collector.logs.v1.LogsService",
                        "opentelemetry.proto.collector.metrics.v1.MetricsService",
                        "opentelemetry.proto.collector.trace.v1.TraceService"):
            req = b"" if not service else b"\x0a" + bytes([len(service)]) + service.encode()
            resp = check_(req, timeout=5)
            check(f"health of '{service or '(server)'}': SERVING", resp == b"\x08\x01", repr(resp))
        try:
            check_(b"\x0a\x03nop", timeout=5)
            check("an unknown service: NOT_FOUND", False)
        except grpc.RpcError as e:
            check("an unknown service: NOT_FOUND", e.code() == grpc.StatusCode.NOT_FOUND, str(e.code()))
    finally:
        s.stop()


def test_orderly_stop_logs_nothing_alarming():
    print("after an orderly stop over reused segments, the next start logs no torn write")
    create_table("stop")
    pid = "ops-stop"
    s = Sluice("ops-stop", [ops_pipeline(pid, "stop")])
    os.makedirs(s.data_dir, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", s.data_dir]).returncode == 0
    try:
        if not check("a 32 MiB tmpfs for the data directory (segments of 2 MiB)", mounted):
            return
        s.start(pid)
        big = "x" * 20000
        sent = 0
        for i in range(60):  # about 7 MiB: several segments, acknowledged and reused
            body = json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": [
                {"severityText": "INFO", "body": {"stringValue": f"stop-{i}-{k} {big}"}} for k in range(6)]}]}]}).encode()
            sent += 6 if s.post("/v1/logs", body, H(pid))[0] == 200 else 0
        check(f"all {sent} records land", wait_rows("SELECT count() FROM ops.stop WHERE Body LIKE 'stop-%'", sent, 60))
        spares = [n for n in os.listdir(os.path.join(s.data_dir, "pipelines", pid, "log")) if "spare" in n]
        s.post("/v1/logs", logs("stop-last", 1), H(pid))
        rc, _ = s.stop()
        before = len(s.log())
        s.start(pid)
        s.stop()
        after = s.log()[before:]
        check("the restart reports no torn write and no truncated bytes",
              rc == 0 and "truncated" not in after and "torn" not in after, after[:800])
        check("(segments were reused: spares existed)", len(spares) > 0 or "spare" in s.log(), str(spares))
    finally:
        s.stop()
        subprocess.run(["umount", "-l", s.data_dir])


# ---------------------------------------------------------------- the command line

def run_cli(*args, stdin=b""):
    p = subprocess.run([SLUICE, *args], input=stdin, capture_output=True, timeout=30)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def test_cli():
    print("the command line: help for every command, unknown flags, validate, dlq")
    commands = ["serve", "validate", "status", "reload", "dlq", "flatten", "encode", "version"]
    rc, out, err = run_cli("--help")
    check("`sluice --help` lists every command, exit 0",
          rc == 0 and all(c in out for c in commands), out)
    for c in commands:
        rc, out, err = run_cli(c, "--help")
        check(f"`sluice {c} --help`: exit 0, usage and flags", rc == 0 and f"sluice {c}" in out and "--help" in out, out + err)
    for args in (["serve", "--bogus-flag"], ["serve", "--help-me"], ["dlq", "--pipeline", "x", "--nope"]):
        t0 = time.time()
        rc, out, err = run_cli(*args)
        check(f"`sluice {' '.join(args)}`: exit 2 naming the flag, no server",
              rc == 2 and args[-1] in err and time.time() - t0 < 5, err)
    rc, out, err = run_cli()
    check("`sluice` alone: usage, exit 2", rc == 2 and "serve" in err)
    rc, out, err = run_cli("flatten", "--signal", "spans")
    check("flatten --signal spans: exit 2 with the allowed values", rc == 2 and "logs" in err, err)
    rc, out, err = run_cli("--version")
    check("--version", rc == 0 and out.strip() == "sluice 0.1.0", out)

    d = os.path.join(harness.DATA, "cli-validate")
    subprocess.run(["rm", "-rf", d])
    os.makedirs(d)
    good = ops_pipeline("cli-good", "t")
    json.dump(good, open(os.path.join(d, "a-good.json"), "w"))
    typo = ops_pipeline("cli-typo", "t")
    typo["sink"]["max_batch_sise"] = typo["sink"].pop("max_batch_size", 1000)
    typo["sink"]["mapping"][0]["colum_name"] = typo["sink"]["mapping"][0].pop("column_name")
    typo["sinkk"] = {}
    json.dump(typo, open(os.path.join(d, "b-typo.json"), "w"))
    open(os.path.join(d, "c-syntax.json"), "w").write('{\n  "pipeline_id": "cli-syntax",\n  "sources": []\n  "sink": {}\n}\n')
    open(os.path.join(d, "d-good.yaml"), "w").write(
        "pipeline_id: cli-yaml\nsources: [{type: otlp.logs, source_id: l}]\n"
        "sink:\n  type: clickhouse\n  connection_params: {host: 127.0.0.1, port: \"9000\"}\n"
        "  table: t\n  max_batch_size: 10\n  mapping: [{name: body, column_name: Body, column_type: String}]\n")
    open(os.path.join(d, "notes.txt"), "w").write("not a pipeline")
    rc, out, err = run_cli("validate", "--pipelines", d)
    want = "\n".join([
        f"{d}/notes.txt: not a pipeline file (.json, .yaml or .yml); the server ignores it",
        f"{d}/a-good.json: ok (pipeline cli-good, otlp.logs -> ops.t)",
        f"{d}/b-typo.json: unknown key 'colum_name' in sink.mapping[0]; did you mean 'column_name'?",
        f"{d}/b-typo.json: unknown key 'max_batch_sise' in sink; did you mean 'max_batch_size'?",
        f"{d}/b-typo.json: unknown key 'sinkk' at the top level; did you mean 'sink'?",
        f"{d}/c-syntax.json: not valid JSON: line 4, column 3: expected ',' or '}}' after a value in an object",
        f"{d}/d-good.yaml: ok (pipeline cli-yaml, otlp.logs -> default.t)"]) + "\n"
    check("validate prints every problem with file, path and suggestion; exit 1", rc == 1 and out == want,
          f"rc={rc}\n{out}\n--- want\n{want}")
    rc, out, err = run_cli("validate", os.path.join(d, "a-good.json"), "--check-clickhouse")
    check("validate --check-clickhouse: the missing table is reported",
          rc == 1 and "a-good.json: ClickHouse at HTTP 127.0.0.1:18123: " in out and "ops.t" in out, out)
    create_table("t")
    rc, out, err = run_cli("validate", os.path.join(d, "a-good.json"), "--check-clickhouse")
    check("validate --check-clickhouse: ok once the table fits", rc == 0 and "tables checked" in out, out)

    s = Sluice("ops-cli-dlq", [ops_pipeline("cli-dlq", "t")]).start("cli-dlq")
    try:
        rc, out, err = run_cli("dlq", "--pipeline", "cli-dlq", "--data-dir", s.data_dir)
        check("dlq when empty: says 'no dead letters', exit 0", rc == 0 and "no dead letters" in err and out == "", err)
        s.post("/v1/logs", logs("cli-dlq", 3, [300, 301, 9]), H("cli-dlq"))
        deadline = time.time() + 15
        while time.time() < deadline and len(s.dlq("cli-dlq")) < 2:
            time.sleep(0.2)
        rc, out, err = run_cli("dlq", "--pipeline", "cli-dlq", "--data-dir", s.data_dir, "--summary")
        lines = [l.split() for l in out.strip().splitlines()]
        check("dlq --summary counts by reason", rc == 0 and ["schema_mismatch", "2"] in lines and ["total", "2"] in lines, out)
    finally:
        s.stop()


def run_all():
    harness.run_tests(test_metrics_move_exactly, test_table_missing_heals, test_reload_restarts_a_failed_pipeline,
                      test_wrong_password_heals, test_unloadable_file_and_head, test_grpc_health_per_service, test_orderly_stop_logs_nothing_alarming,
                      test_cli)
