"""Reaching any ClickHouse (issue 11), against real 18.16 servers: the native TCP protocol
(plain, LZ4, ZSTD), TLS on both protocols (a test CA, a server that requires client
certificates), every 18.16 type round-tripped row by row per protocol, TLS and credential
failures reported clearly without the password, three hosts with one killed under load, and
GlassFlow's own pipeline files (port 9000, no http_port) unchanged. Run by e2e.py (group "reach").
"""
import json
import os
import subprocess
import time

import harness
from harness import (CH_HTTP, CH_HTTPS, CH_TCP, CH_TCPS, DATA, ROOT, SLUICE, TLS_DIR, Sluice, ch, check,
                     logs_pipeline, wait_rows, H, post)


def compressed_pipeline(pipeline_id, table, compression):
    doc = logs_pipeline(pipeline_id)
    doc["sink"]["connection_params"]["database"] = "reach"
    doc["sink"]["connection_params"]["compression"] = compression
    doc["sink"]["table"] = table
    doc["sink"]["max_batch_size"] = 5000
    doc["sink"]["mapping"] = [
        {"name": "timestamp", "column_name": "Ts", "column_type": "UInt64"},
        {"name": "body", "column_name": "Body", "column_type": "String"},
        {"name": "severity_number", "column_name": "Sev", "column_type": "UInt8"},
        {"name": "attributes", "column_name": "Attrs", "column_type": "Nested(key String, value String)"}]
    return doc


def records(run, n):
    recs = [{"timeUnixNano": str(1717171717000000000 + i), "severityNumber": 1 + i % 24,
             "body": {"stringValue": f"{run} #{i} " + "payload " * (i % 17)},
             "attributes": [{"key": "i", "value": {"intValue": str(i)}},
                            {"key": "run", "value": {"stringValue": run}}]} for i in range(n)]
    return json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": recs}]}]}).encode()


def test_compressed_inserts():
    print("INSERT bodies in ClickHouse's compressed frames (decompress=1): LZ4 and ZSTD land the same rows")
    ch("CREATE DATABASE IF NOT EXISTS reach")
    kinds = ("none", "lz4", "zstd")
    for k in kinds:
        ch(f"DROP TABLE IF EXISTS reach.c_{k}")
        ch(f"CREATE TABLE reach.c_{k} (Ts UInt64, Body String, Sev UInt8, "
           f"Attrs Nested(key String, value String)) ENGINE = MergeTree ORDER BY Ts")
    s = Sluice("reach-compressed", [compressed_pipeline(f"c-{k}", f"c_{k}", k) for k in kinds]).start("c-none")
    try:
        n, statuses = 0, set()
        for part in range(6):  # several batches, some over a 1 MiB frame
            body = records(f"r{part}", 3000)
            for k in kinds:
                statuses.add(s.post("/v1/logs", body, H(f"c-{k}"))[0])
            n += 3000
        check("every request accepted", statuses == {200}, str(statuses))
        for k in kinds:
            check(f"{k}: all {n} rows land", wait_rows(f"SELECT count() FROM reach.c_{k}", n, 60))
        q = "SELECT Ts, Body, Sev, Attrs.key, Attrs.value FROM reach.c_{} ORDER BY Ts, Body FORMAT TabSeparated"
        want = ch(q.format("none"))
        for k in ("lz4", "zstd"):
            got = ch(q.format(k))
            check(f"{k}: the rows are exactly those sent uncompressed", got == want and len(want) > 100000,
                  f"{len(got)} vs {len(want)} bytes")
        check("nothing dead-lettered", all(s.dlq(f"c-{k}") == [] for k in kinds))
    finally:
        s.stop()


# ---------------------------------------------------------------- every type, every protocol

TYPED_COLUMNS = [  # (column, type, field): every type 18.16 has that a log field can fill
    ("Ts", "DateTime", "timestamp"), ("TsNs", "UInt64", "timestamp"), ("Day", "Date", "timestamp"),
    ("Sev", "UInt8", "severity_number"), ("Sev16", "UInt16", "severity_number"),
    ("Sev32", "UInt32", "severity_number"), ("SevI8", "Int8", "severity_number"),
    ("SevI16", "Int16", "severity_number"), ("SevI32", "Int32", "severity_number"),
    ("SevI64", "Int64", "severity_number"), ("SevF32", "Float32", "severity_number"),
    ("SevF64", "Float64", "severity_number"), ("SevText", "String", "severity_text"),
    ("SevLc", "LowCardinality(String)", "severity_text"),
    ("SevEnum", "Enum8('INFO' = 9, 'WARN' = 13, 'ERROR' = 17)", "severity_text"),
    ("Body", "String", "body"), ("TraceId", "FixedString(32)", "trace_id"),
    ("TraceUuid", "UUID", "trace_id"), ("TraceHex", "String", "trace_id"), ("SpanId", "String", "span_id"),
    ("Flags", "UInt32", "flags"), ("N", "Nullable(Int64)", "attributes.n"),
    ("F", "Nullable(Float64)", "attributes.f"), ("S", "LowCardinality(Nullable(String))", "attributes.s"),
    ("NS", "Nullable(String)", "attributes.s"), ("Attrs", "Nested(key String, value String)", "attributes"),
    ("Res", "Nested(key String, value String)", "resource_attributes"),
    ("Svc", "LowCardinality(String)", "resource_attributes.service.name"),
]  # (Map, DateTime64, Bool and Array(Tuple) 18.16 lacks: the golden tests read them back with chDB)


def typed_records(first, n):
    recs = []
    for i in range(first, first + n):
        r = {"timeUnixNano": str(1717171717000000000 + i * 1000001), "severityNumber": [9, 13, 17][i % 3],
             "severityText": ["INFO", "WARN", "ERROR"][i % 3],
             "body": {"stringValue": f"row {i}\t tab \\ back ' quote \n nl \u00fcn\u00ef"},
             "traceId": f"{i + 1:032x}", "spanId": f"{i + 7:016x}", "flags": i % 2, "attributes": []}
        if i % 5:
            r["attributes"] = [
                {"key": "n", "value": {"intValue": str(i - 1000)}},
                {"key": "f", "value": {"doubleValue": i / 8}},
                {"key": "s", "value": {"stringValue": f"s{i % 7}"}},
                {"key": "arr", "value": {"arrayValue": {"values": [{"intValue": str(i)}, {"intValue": str(-i)}]}}}]
        recs.append(r)
    return json.dumps({"resourceLogs": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "svc-reach"}},
                                    {"key": "host.name", "value": {"stringValue": "h1"}}]},
        "scopeLogs": [{"logRecords": recs}]}]}).encode()


def create_typed_table(name, port=None):
    ch("CREATE DATABASE IF NOT EXISTS reach", port=port)
    ch(f"DROP TABLE IF EXISTS reach.{name}", port=port)
    cols = ", ".join(f"`{c}` {t}" for c, t, _ in TYPED_COLUMNS)
    ch(f"CREATE TABLE reach.{name} ({cols}) ENGINE = MergeTree ORDER BY TsNs", port=port,
       allow_experimental_low_cardinality_type=1)


def typed_pipeline(pipeline_id, table, **params):
    """A logs pipeline into reach.<table>; `params` replace its connection_params (the
    HTTP port is dropped unless given again)."""
    doc = logs_pipeline(pipeline_id)
    cp = doc["sink"]["connection_params"]
    cp.pop("http_port")
    cp.update({"database": "reach", "port": str(CH_TCP)})
    cp.update(params)
    doc["sink"]["table"] = table
    doc["sink"]["max_batch_size"] = 1000
    doc["sink"]["mapping"] = [{"name": f, "column_name": c, "column_type": t} for c, t, f in TYPED_COLUMNS]
    return doc


def tls(**extra):
    return dict({"secure": True, "tls_ca_file": os.path.join(TLS_DIR, "ca.pem"),
                 "tls_cert_file": os.path.join(TLS_DIR, "client.pem"),
                 "tls_key_file": os.path.join(TLS_DIR, "client.key")}, **extra)


def test_every_type_every_protocol():
    print("Every 18.16 type lands the same over HTTP, native (none/LZ4/ZSTD), native TLS and HTTPS")
    variants = {
        "http": {"http_port": str(CH_HTTP)},
        "native": {},  # GlassFlow's form: the native port, LZ4 by default
        "native-none": {"compression": "none"},
        "native-zstd": {"compression": "zstd"},
        "native-tls": tls(port=str(CH_TCPS)),
        "native-tls-skip": tls(port=str(CH_TCPS), skip_certificate_verification=True, tls_ca_file=""),
        "https": tls(protocol="http", port=str(CH_HTTPS), compression="lz4"),
    }
    docs = []
    for v, params in variants.items():
        table = "ty_" + v.replace("-", "_")
        create_typed_table(table)
        docs.append(typed_pipeline(f"ty-{v}", table, **params))
    s = Sluice("reach-types", docs).start("ty-http")
    try:
        statuses = set()
        for first in (0, 1000, 2000):
            body = typed_records(first, 1000)
            for v in variants:
                statuses.add(s.post("/v1/logs", body, H(f"ty-{v}"))[0])
        check("every request accepted", statuses == {200}, str(statuses))
        for v in variants:
            h = s.health(f"ty-{v}")
            check(f"{v}: running", h and h["overall_status"] == "Running",
                  str(h and h["stats"]["reason"]))
            check(f"{v}: all 3000 rows land", wait_rows(f"SELECT count() FROM reach.ty_{v.replace('-', '_')}", 3000, 60))
        q = "SELECT * FROM reach.ty_{} ORDER BY TsNs FORMAT TabSeparated"
        want = ch(q.format("http"))
        for v in variants:
            if v != "http":
                got = ch(q.format(v.replace("-", "_")))
                check(f"{v}: every column of every row equals the HTTP path's", got == want,
                      f"{len(got)} vs {len(want)} bytes; first difference at line "
                      f"{next((i for i, (a, b) in enumerate(zip(got.splitlines(), want.splitlines())) if a != b), '-')}")
        # And the values are the ones sent (rows 1 and 5: with and without the attributes).
        row = ch("SELECT TsNs, Day, Sev, SevI8, SevF32, SevText, SevLc, SevEnum, Body, TraceId, "
                 "TraceUuid, SpanId, Flags, N, F, S, NS, Attrs.key, Attrs.value, Res.key, Svc "
                 "FROM reach.ty_native WHERE TsNs IN (1717171717001000001, 1717171717005000005) "
                 "ORDER BY TsNs FORMAT TabSeparated").splitlines()
        check("native: row 1 exactly", row[0] == "\t".join([
            "1717171717001000001", "2024-05-31", "13", "13", "13", "WARN", "WARN", "WARN",
            "row 1\\t tab \\\\ back \\' quote \\n nl \u00fcn\u00ef",
            "00000000000000000000000000000002", "00000000-0000-0000-0000-000000000002", "0000000000000008", "1",
            "-999", "0.125", "s1", "s1", "['n','f','s','arr']", "['-999','0.125','s1','[1,-1]']",
            "['service.name','host.name']", "svc-reach"]), repr(row[:1]))
        check("native: row 5 (no attributes: NULLs and empty arrays)",
              row[1].split("\t")[13:19] == ["\\N", "\\N", "\\N", "\\N", "[]", "[]"], repr(row[1:]))
        check("nothing dead-lettered", all(s.dlq(f"ty-{v}") == [] for v in variants))
    finally:
        s.stop()


def test_tls_and_credential_failures():
    print("TLS and credential failures: clear reasons, requests still buffered, no password anywhere")
    secret = "hunter2-e2e-secret"
    cases = {  # pipeline -> (connection params, words the reason must hold)
        "tf-wrong-ca": (tls(port=str(CH_TCPS), tls_ca_file=os.path.join(TLS_DIR, "other-ca.pem")),
                        "certificate is not trusted"),
        "tf-https-wrong-ca": (tls(protocol="http", port=str(CH_HTTPS),
                                  tls_ca_file=os.path.join(TLS_DIR, "other-ca.pem")), "certificate is not trusted"),
        "tf-no-client-cert": ({"port": str(CH_TCPS), "secure": True,
                               "tls_ca_file": os.path.join(TLS_DIR, "ca.pem")}, "tls_cert_file"),
        "tf-plain-to-tls": ({"port": str(CH_TCPS)}, "secure: true"),
        "tf-http-port-native": ({"port": str(CH_HTTP), "protocol": "native"}, "http_port"),
        "tf-wrong-password": ({"password_env": "SLUICE_E2E_CH_PASSWORD"}, "Code: 193"),
        "tf-https-wrong-password": (tls(protocol="http", port=str(CH_HTTPS), password=secret), "Code: 193"),
    }
    create_typed_table("tf")
    docs = [typed_pipeline(pid, "tf", **params) for pid, (params, _) in cases.items()]
    s = Sluice("reach-tls-failures", docs).start(env={"SLUICE_E2E_CH_PASSWORD": secret})
    try:
        for pid, (_, words) in cases.items():
            h = s.wait_status(pid, "Failed", timeout=40)
            reason = (h or {}).get("stats", {}).get("reason") or ""
            check(f"{pid}: Failed, saying why ({words!r})", words in reason, reason)
            st = s.post("/v1/logs", typed_records(0, 3), H(pid))[0]
            check(f"{pid}: its requests are still buffered (200)", st == 200, str(st))
        pages = [s.log(), json.dumps(s.admin("/api/v1/pipeline")[1]), s.admin("/metrics")[1]]
        pages += [json.dumps(s.health(pid)) for pid in cases]
        check("the password appears in no log line, status page or metric", not any(secret in p for p in pages))
        out = subprocess.run([SLUICE, "validate", "--check-clickhouse",
                              os.path.join(s.dir, "pipelines", "tf-wrong-password.json")],
                             capture_output=True, text=True, env=dict(os.environ, SLUICE_E2E_CH_PASSWORD=secret))
        check("sluice validate names the failure, not the password",
              out.returncode == 1 and "193" in out.stdout + out.stderr and secret not in out.stdout + out.stderr,
              out.stdout + out.stderr)
    finally:
        s.stop()


# ---------------------------------------------------------------- three hosts

def ch_server(name, http_port, tcp_port, cmd="start"):
    subprocess.run([os.path.join(ROOT, "scripts", "clickhouse"), cmd, os.path.join(DATA, name),
                    str(http_port), str(tcp_port)], check=True)


HOSTS = [("ch-a", 21123, 21000), ("ch-b", 22123, 22000), ("ch-c", 23123, 9000)]


def test_three_hosts_one_killed():
    print("Three hosts, one killed under load: nothing acknowledged lost, the others take the INSERTs, "
          "the host is used again once back")
    for name, hp, tp in HOSTS:
        ch_server(name, hp, tp)
        create_typed_table("fo", port=hp)
    doc = typed_pipeline("fo-three", "fo", host="127.0.0.1",
                         hosts=[f"127.0.0.1:{tp}" for _, _, tp in HOSTS[1:]], port=str(HOSTS[0][2]))
    doc["sink"]["max_batch_size"] = 200
    s = Sluice("reach-failover", [doc]).start("fo-three")
    try:
        def counts(alive=(0, 1, 2)):
            return [int(ch("SELECT count() FROM reach.fo", port=hp)) if i in alive else 0
                    for i, (_, hp, _) in enumerate(HOSTS)]

        sent, statuses = 0, []
        for k in range(10):
            statuses.append(s.post("/v1/logs", typed_records(sent, 200), H("fo-three"))[0])
            sent += 200
            time.sleep(0.1)
        check("before the kill: every host has rows (round robin)",
              wait_rows_sum(counts, sent) and all(c > 0 for c in counts()), str(counts()))
        before = counts()
        subprocess.run(["kill", "-9", open(os.path.join(DATA, "ch-b", "pid")).read().strip()])
        for k in range(40):
            statuses.append(s.post("/v1/logs", typed_records(sent, 200), H("fo-three"))[0])
            sent += 200
            time.sleep(0.05)
        check("every request acknowledged (200)", set(statuses) == {200}, str(set(statuses)))
        ok = wait_rows_sum(lambda: counts((0, 2)) + [before[1]], sent, 60)
        after = counts((0, 2))
        check("the two live hosts took the INSERTs meanwhile", ok and after[0] > before[0] and after[2] > before[2],
              f"{before} -> {after}, sent {sent}")
        ch_server("ch-b", HOSTS[1][1], HOSTS[1][2], "stop")
        ch_server("ch-b", HOSTS[1][1], HOSTS[1][2])
        ids = set()
        total = 0
        for _, hp, _ in HOSTS:
            got = ch("SELECT TsNs FROM reach.fo FORMAT TabSeparated", port=hp).split()
            total += len(got)
            ids.update(got)
        check(f"no acknowledged record lost: {sent} distinct records across the hosts", len(ids) == sent,
              f"{len(ids)} distinct of {sent} ({total} rows)")
        b_before = counts()[1]
        deadline = time.time() + 60
        while time.time() < deadline and counts()[1] == b_before:
            s.post("/v1/logs", typed_records(sent, 50), H("fo-three"))
            sent += 50
            time.sleep(0.5)
        check("the restarted host takes INSERTs again (health-checked)", counts()[1] > b_before, str(counts()))
        check("the host going down and up was logged", "is down" in s.log() and "is up again" in s.log())
    finally:
        s.stop()
        for name, hp, tp in HOSTS:
            ch_server(name, hp, tp, "stop")


def wait_rows_sum(counts, want, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if sum(counts()) >= want:
            return True
        time.sleep(0.2)
    print(f"       waited for {want} rows, have {counts()}")
    return False


def test_glassflow_files_unchanged():
    print("GlassFlow-shaped pipeline files (native port 9000, no http_port) work unchanged")
    name, hp, tp = HOSTS[2]  # listens on 9000
    ch_server(name, hp, tp)
    try:
        ch("DROP DATABASE IF EXISTS otel", port=hp)
        subprocess.run([os.path.join(ROOT, "scripts", "create-tables"), f"http://127.0.0.1:{hp}"], check=True)
        docs = [json.load(open(os.path.join(ROOT, "examples", "pipelines", f)))
                for f in sorted(os.listdir(os.path.join(ROOT, "examples", "pipelines")))]
        check("the files name port 9000 and no http_port",
              all(d["sink"]["connection_params"]["port"] == "9000" and "http_port" not in d["sink"]["connection_params"]
                  for d in docs))
        s = Sluice("reach-glassflow", docs).start("otel-logs")
        try:
            st = s.post("/v1/logs", logs_json_one(), H("otel-logs"))[0]
            check("a log accepted", st == 200, str(st))
            check("the log row lands in otel.otel_logs", wait_rows(
                f"SELECT count() FROM otel.otel_logs WHERE Body = 'glassflow-file'", 1, 30, port=hp))
            for sig in ("otel-metrics", "otel-traces"):
                h = s.wait_status(sig, "Running", timeout=30)
                check(f"{sig}: running over native 9000", h is not None)
            check("the log says the native protocol", "over native 127.0.0.1:9000" in s.log())
        finally:
            s.stop()
    finally:
        ch_server(name, hp, tp, "stop")


def logs_json_one():
    return json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": [
        {"timeUnixNano": "1717171717000000000", "body": {"stringValue": "glassflow-file"}}]}]}]}).encode()


def run_all():
    harness.run_tests(test_compressed_inserts, test_every_type_every_protocol, test_tls_and_credential_failures,
                      test_three_hosts_one_killed, test_glassflow_files_unchanged)
