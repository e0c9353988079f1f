"""Transforms (filter, dedup, stateless) end to end: exact rows in a real ClickHouse for
each stage and combined, dead letters for records a filter or a transform cannot handle,
dedup across a restart, across kill -9 under load and past its window, the ClickStack
example pipelines with a real OpenTelemetry exporter, and the REST API's checks
(pipeline creation, filter validation, expression evaluation).
"""
import json
import os
import random
import threading
import time

import harness
from harness import (CH_HTTP, ROOT, Sluice, ch, check, logs_pipeline, node_send, otlp_pb, post,
                     wait_rows, H)

DB = "tr"


def create_table(table):
    ch(f"CREATE DATABASE IF NOT EXISTS {DB}")
    ch(f"DROP TABLE IF EXISTS {DB}.{table}")
    ch(f"CREATE TABLE {DB}.{table} (Ts UInt64, Sev String, SevNum Int32, Service String, Body String, "
       f"Req String, Code Int64, Ratio Float64, `Attrs.key` Array(String), `Attrs.value` Array(String)) "
       f"ENGINE = MergeTree ORDER BY (Req, Body)")


def pipeline(pid, table, transforms, mapping=None, **sink):
    doc = logs_pipeline(pid, **sink)
    doc["sink"]["connection_params"]["database"] = DB
    doc["sink"]["table"] = table
    doc["transforms"] = transforms
    doc["sink"]["mapping"] = mapping or [
        {"name": "ts", "column_name": "Ts", "column_type": "UInt64"},
        {"name": "sev", "column_name": "Sev", "column_type": "String"},
        {"name": "sevnum", "column_name": "SevNum", "column_type": "Int32"},
        {"name": "service", "column_name": "Service", "column_type": "String"},
        {"name": "body", "column_name": "Body", "column_type": "String"},
        {"name": "req", "column_name": "Req", "column_type": "String"},
        {"name": "code", "column_name": "Code", "column_type": "Int64"},
        {"name": "ratio", "column_name": "Ratio", "column_type": "Float64"},
        {"name": "attrs", "column_name": "Attrs", "column_type": "Nested(key String, value String)"}]
    return doc


STATELESS = {"type": "stateless", "source_id": "logs", "config": {"transforms": [
    {"expression": "timestamp", "output_name": "ts", "output_type": "string"},
    {"expression": "upper(severity_text)", "output_name": "sev", "output_type": "string"},
    {"expression": "int(severity_number) * 10", "output_name": "sevnum", "output_type": "int"},
    {"expression": "resource_attributes['service.name']", "output_name": "service", "output_type": "string"},
    {"expression": "'[' + body + ']'", "output_name": "body", "output_type": "string"},
    {"expression": "attributes['req.id'] ?? ''", "output_name": "req", "output_type": "string"},
    {"expression": "attributes['code'] ?? '0'", "output_name": "code", "output_type": "int"},
    {"expression": "toFloat(attributes['ratio']) / 2", "output_name": "ratio", "output_type": "float64"},
    {"expression": "attributes", "output_name": "attrs", "output_type": "map"}]}}


def request(records, service="shop"):
    """An ExportLogsServiceRequest: records are dicts {body, sev, text, attrs}."""
    ls = otlp_pb()[0]
    req = ls.ExportLogsServiceRequest()
    rl = req.resource_logs.add()
    a = rl.resource.attributes.add()
    a.key, a.value.string_value = "service.name", service
    sl = rl.scope_logs.add()
    for i, r in enumerate(records):
        lr = sl.log_records.add()
        lr.time_unix_nano = r.get("ts", 1717171717000000000 + i)
        lr.severity_number = r.get("sev", 9)
        lr.severity_text = r.get("text", "info")
        lr.body.string_value = r["body"]
        for k, v in r.get("attrs", {}).items():
            kv = lr.attributes.add()
            kv.key, kv.value.string_value = k, v
    return req.SerializeToString()


def send(s, pid, body):
    return s.post("/v1/logs", body, H(pid, "application/x-protobuf"))[0]


def rows(table, where="1"):
    out = ch(f"SELECT Ts, Sev, SevNum, Service, Body, Req, Code, Ratio, Attrs.key, Attrs.value "
             f"FROM {DB}.{table} WHERE {where} ORDER BY Req, Body FORMAT JSONCompact")
    return [tuple(r) for r in json.loads(out)["data"]]


def test_all_stages_exact_rows():
    print("transforms: filter -> dedup -> stateless, exact rows and dead letters")
    create_table("all")
    pid = "tr-all"
    doc = pipeline(pid, "all", [
        STATELESS,  # listed first: the order is GlassFlow's fixed one whatever the array's
        {"type": "dedup", "source_id": "logs", "config": {"key": "attributes.req.id", "time_window": "1h"}},
        {"type": "filter", "source_id": "logs", "config": {
            "expression": "severity_number >= 9 and resource_attributes['service.name'] == 'shop' "
                          "and (attributes['n'] == nil or int(attributes['n']) < 100)"}}])
    s = Sluice("tr-all", [doc]).start(pid)
    try:
        recs = [
            {"body": "a", "sev": 9, "text": "info", "attrs": {"req.id": "r1", "code": "7", "ratio": "3"}},
            {"body": "b", "sev": 5, "attrs": {"req.id": "r2"}},                 # filtered: severity
            {"body": "c", "sev": 17, "text": "error", "attrs": {"req.id": "r1"}},  # duplicate of r1
            {"body": "d", "sev": 13, "text": "warn", "attrs": {"req.id": "r3", "n": "500"}},  # filtered: n
            {"body": "e", "sev": 13, "attrs": {"req.id": "r4", "n": "abc"}},   # filter error -> DLQ
            {"body": "f", "sev": 21, "text": "Fatal", "attrs": {"req.id": "r5", "code": "0x1F"}},
            {"body": "g", "sev": 9, "attrs": {"req.id": "r6", "code": "x"}},   # transform error -> DLQ
            {"body": "h", "sev": 9, "attrs": {}},                               # no key: kept
            {"body": "i", "sev": 10, "text": "info", "attrs": {"req.id": "r7", "ratio": "1"}},
        ]
        st = send(s, pid, request(recs))
        st2 = send(s, pid, request([{"body": "z", "sev": 20, "attrs": {"req.id": "r9"}}], service="other"))
        # r1 again in a later request: a duplicate within the window.
        st3 = send(s, pid, request([{"body": "a2", "sev": 9, "attrs": {"req.id": "r1"}}]))
        check("requests answered 200", (st, st2, st3) == (200, 200, 200), str((st, st2, st3)))
        ok = wait_rows(f"SELECT count() FROM {DB}.all", 4)
        time.sleep(0.5)
        t0 = 1717171717000000000
        want = [
            (str(t0 + 7), "INFO", 90, "shop", "[h]", "", "0", 0, [], []),
            (str(t0 + 0), "INFO", 90, "shop", "[a]", "r1", "7", 1.5, ["req.id", "code", "ratio"], ["r1", "7", "3"]),
            (str(t0 + 5), "FATAL", 210, "shop", "[f]", "r5", "31", 0, ["req.id", "code"], ["r5", "0x1F"]),
            (str(t0 + 8), "INFO", 100, "shop", "[i]", "r7", "0", 0.5, ["req.id", "ratio"], ["r7", "1"]),
        ]
        got = rows("all")
        check("exactly the kept rows, transformed", ok and got == want, f"\n got  {got}\n want {want}")
        dl = s.dlq(pid)
        reasons = sorted((json.loads(d["original_message"])["body"], d.get("reason")) for d in dl)
        check("the filter's and the transform's failures are dead letters with their reasons",
              reasons == [("e", "filter_error"), ("g", "transform_error")], str(dl)[:600])
        errs = " | ".join(d.get("error", "") for d in dl)
        check("dead letters say why (expr's message and position)",
              "invalid syntax" in errs and "(1:" in errs and "convert result for column code" in errs, errs[:500])
        m = s.metrics()
        L = dict(pipeline_id=pid)
        got_m = {(c, st_): harness.metric(m, "gfm_processor_messages_total", component=c, status=st_, **L)
                 for c, st_ in [("filter", "success"), ("filter", "filtered"), ("filter", "error"),
                                ("dedup", "success"), ("dedup", "duplicate"), ("transform", "success"),
                                ("transform", "error")]}
        want_m = {("filter", "success"): 7, ("filter", "filtered"): 3, ("filter", "error"): 1,
                  ("dedup", "success"): 5, ("dedup", "duplicate"): 2, ("transform", "success"): 4,
                  ("transform", "error"): 1}
        check("gfm_processor_messages counts every stage's outcome", got_m == want_m, str(got_m))
        check("the dedup index holds the 3 committed keys (r1, r5, r7)",
              harness.metric(m, "sluice_dedup_index_keys", **L) == 3, str(harness.metric(m, "sluice_dedup_index_keys", **L)))
        # A restart: the index survives; duplicates of committed keys stay out.
        s.stop()
        s.start(pid)
        st = send(s, pid, request([{"body": "a3", "sev": 9, "attrs": {"req.id": "r1"}},
                                   {"body": "j", "sev": 9, "attrs": {"req.id": "r8"}}]))
        ok = wait_rows(f"SELECT count() FROM {DB}.all", 5)
        time.sleep(1)
        check("after a restart, r1 is still a duplicate and r8 lands",
              st == 200 and ok and [r[4] for r in rows("all")] == ["[h]", "[a]", "[f]", "[i]", "[j]"],
              str(rows("all")))
    finally:
        s.stop()


def test_dedup_window_expires():
    print("dedup: a key is a duplicate within its window, new again after it")
    create_table("win")
    pid = "tr-win"
    doc = pipeline(pid, "win", [
        {"type": "dedup", "source_id": "logs", "config": {"key": "{attributes.req.id,body}", "time_window": "2s"}},
        STATELESS])
    s = Sluice("tr-win", [doc]).start(pid)
    try:
        one = request([{"body": "k", "attrs": {"req.id": "w1"}}])
        send(s, pid, one)
        wait_rows(f"SELECT count() FROM {DB}.win", 1)
        send(s, pid, one)  # within 2 s: a duplicate
        send(s, pid, request([{"body": "other", "attrs": {"req.id": "w1"}}]))  # another multipath key
        time.sleep(3.2)
        send(s, pid, one)  # the window has passed: new again
        ok = wait_rows(f"SELECT count() FROM {DB}.win", 3)
        time.sleep(0.5)
        got = ch(f"SELECT Body, count() FROM {DB}.win GROUP BY Body ORDER BY Body FORMAT TabSeparated")
        check("the multipath key counts both parts; after the window the key is new",
              ok and got == "[k]\t2\n[other]\t1\n", repr(got))
    finally:
        s.stop()


def test_dedup_kill9_under_load(keys=3000, copies=3):
    print(f"dedup: {keys} keys sent {copies} times each by 4 senders, kill -9 three times: each key once")
    from insert_recorder import InsertRecorder
    create_table("k9")
    pid = "tr-k9"
    # Through the recording proxy posing as a current server that drops a replayed batch
    # by its insert_deduplication_token (18.16 has none): what is left to prove is that
    # the dedup stage never lets a key in twice and never loses one, whatever the crash.
    doc = pipeline(pid, "k9", [
        {"type": "dedup", "source_id": "logs", "config": {"key": "attributes.req.id", "time_window": "1h"}},
        STATELESS], ch_http_port=harness.PROXY_PORT, max_batch_size=200)
    # Answers held back 0.3 s: at each kill some inserted batches are unconfirmed.
    recorder = InsertRecorder(harness.PROXY_PORT, CH_HTTP, pose_as="24.8.1.1", answer_delay=0.3,
                              dedupe_tokens=True).__enter__()
    s = Sluice("tr-k9", [doc]).start(pid)
    work = [f"k{i}" for i in range(keys)] * copies
    random.Random(7).shuffle(work)
    chunks = [work[i:i + 50] for i in range(0, len(work), 50)]
    lock = threading.Lock()
    acked = set()
    stop = threading.Event()

    def sender(part):
        for chunk in part:
            body = request([{"body": f"{k}", "attrs": {"req.id": k}} for k in chunk])
            while not stop.is_set():  # until the server acknowledges it (through kills)
                try:
                    st = send(s, pid, body)
                except OSError:
                    st = 0
                if st == 200:
                    with lock:
                        acked.update(chunk)
                    break
                time.sleep(0.05)
            time.sleep(0.08)  # paced: the sending spans the kills

    threads = [threading.Thread(target=sender, args=(chunks[i::4],)) for i in range(4)]
    try:
        for t in threads:
            t.start()
        for _ in range(3):
            time.sleep(1.2)
            s.kill9()
            time.sleep(0.3)
            s.start(pid)
        for t in threads:
            t.join(timeout=180)
        ok = wait_rows(f"SELECT count() FROM {DB}.k9", keys, timeout=60)
        time.sleep(1.5)
        total, distinct = map(int, ch(f"SELECT count(), uniqExact(Req) FROM {DB}.k9 FORMAT TabSeparated").split())
        ins = recorder.snapshot()
        print(f"       {len(ins)} INSERTs, {sum(1 for p, _, _ in ins if p.get('insert_deduplication_token'))} with a token; "
              f"{recorder.deduplicated} replayed INSERT(s) dropped by token")
        check("every key acknowledged", len(acked) == keys, str(len(acked)))
        check("each key exactly once: no duplicate within the window, no unique row lost",
              ok and total == keys and distinct == keys, f"rows {total}, distinct {distinct}, want {keys}")
    finally:
        stop.set()
        s.stop()
        recorder.__exit__(None, None, None)


def test_clickstack_examples():
    print("ClickStack example pipelines: SPAN_KIND_* / STATUS_CODE_* from a real exporter")
    docs = []
    for sig in ("logs", "traces", "metrics"):
        d = json.load(open(os.path.join(ROOT, "examples", "transforms", f"clickstack-{sig}.json")))
        d["sink"]["connection_params"]["port"] = str(harness.CH_TCP)
        d["sink"]["max_delay_time"] = "200ms"
        docs.append(d)
    s = Sluice("tr-clickstack", docs).start("clickstack-logs")
    try:
        ok, out = node_send("traces", "http/protobuf", False, 3, "cstack", "clickstack-traces", s.http_port, s.grpc_port)
        check("the JS exporter sends 3 spans", ok, out)
        ok = wait_rows("SELECT count() FROM otel.otel_traces WHERE SpanName LIKE 'op-%' AND ServiceName = 'js-sender' "
                       "AND SpanKind = 'SPAN_KIND_SERVER' AND StatusCode = 'STATUS_CODE_ERROR'", 3)
        check("spans land with ClickStack's SpanKind and StatusCode", ok,
              ch("SELECT SpanName, SpanKind, StatusCode, ServiceName FROM otel.otel_traces FORMAT TabSeparated")[:400])
        ok, out = node_send("logs", "grpc", False, 2, "cstack-l", "clickstack-logs", s.http_port, s.grpc_port)
        check("logs through the ClickStack logs example",
              ok and wait_rows("SELECT count() FROM otel.otel_logs WHERE Body LIKE 'run=cstack-l %' AND ServiceName = 'js-sender'", 2), out)
        ok, out = node_send("metrics", "grpc", False, 2, "cstack-m", "clickstack-metrics", s.http_port, s.grpc_port)
        check("metrics through the ClickStack metrics example", ok and wait_rows(
            "SELECT count() FROM otel.otel_metrics_sum WHERE ServiceName = 'js-sender' AND Attributes.value[indexOf(Attributes.key, 'test.run')] = 'cstack-m'", 2, timeout=20),
            out + ch("SELECT count() FROM otel.otel_metrics_sum FORMAT TabSeparated"))
    finally:
        s.stop()


def test_api_checks():
    print("REST API: transforms checked at creation (422 with field and position), filter/validate, evaluate")
    create_table("api")
    s = Sluice("tr-api", []).start()
    try:
        def call(path, body, method="POST"):
            st, _, data = post(path, json.dumps(body).encode(), {"content-type": "application/json"},
                               method=method, port=s.admin_port)
            try:
                return st, json.loads(data) if data else None
            except ValueError:
                return st, data
        bad = pipeline("tr-api-bad", "api", [{"type": "filter", "source_id": "logs",
                                              "config": {"expression": "severity_numbr > 5"}}])
        st, doc = call("/api/v1/pipeline", bad)
        e = (doc or {}).get("errors", [{}])[0]
        check("unknown field: 422 naming transforms[0].config.expression, with position and caret",
              st == 422 and e.get("field") == "transforms[0].config.expression"
              and "unknown name severity_numbr (1:1)" in e.get("message", "") and "^" in e.get("message", ""), str(doc))
        bad["transforms"][0]["config"]["expression"] = "body > 5"
        st, doc = call("/api/v1/pipeline", bad)
        check("a type error: 422", st == 422 and "mismatched types string and int" in json.dumps(doc), str(doc))
        bad["transforms"][0]["config"]["expression"] = "severity_text"
        st, doc = call("/api/v1/pipeline", bad)
        check("a filter that is not a bool: 422", st == 422 and "must evaluate to a bool" in json.dumps(doc), str(doc))
        bad["transforms"] = [{"type": "dedup", "source_id": "logs", "config": {"key": "trace_id", "time_window": "8d"}}]
        st, doc = call("/api/v1/pipeline", bad)
        check("a dedup window over 7 days: 422", st == 422 and "7 days" in json.dumps(doc), str(doc))
        good = pipeline("tr-api-ok", "api", [STATELESS, {"type": "filter", "source_id": "logs",
                                                         "config": {"expression": "resource_attributes['service.name'] == 'api'"}}])
        st, doc = call("/api/v1/pipeline", good)
        check("a valid pipeline with transforms: 204", st == 204, str(doc))
        st, lst = call("/api/v1/pipeline", None, method="GET")
        t = [p.get("transformation_type") for p in (lst or []) if p.get("pipeline_id") == "tr-api-ok"]
        check("transformation_type names the transforms", t == ["Filter & Stateless Transformation"], str(t))
        s.wait_status("tr-api-ok", "Running")
        st = send(s, "tr-api-ok", request([{"body": "x", "attrs": {"req.id": "q"}}], service="api"))
        send(s, "tr-api-ok", request([{"body": "y"}], service="nope"))
        check("it runs: the filter keeps service 'api' only",
              st == 200 and wait_rows(f"SELECT count() FROM {DB}.api WHERE Body = '[x]'", 1)
              and ch(f"SELECT count() FROM {DB}.api FORMAT TabSeparated").strip() == "1")
        # GlassFlow's own feature file cases, and more.
        fields = [{"field_name": "env", "field_type": "string"}, {"field_name": "value", "field_type": "int32"}]
        st, _ = call("/api/v1/filter/validate", {"expression": 'env == "production"', "fields": fields})
        check("filter/validate: valid -> 204", st == 204, str(st))
        st, doc = call("/api/v1/filter/validate", {"expression": "env == ", "fields": fields})
        check("filter/validate: syntax error -> 400 validation_error with expr's message",
              st == 400 and doc.get("code") == "validation_error"
              and "unexpected token EOF (1:" in doc.get("details", {}).get("error", ""), str(doc))
        st, doc = call("/api/v1/filter/validate", {"expression": "value % 2 == 0", "fields": fields})
        check("filter/validate: numbers are float64 (value % 2 refused)", st == 400, str(doc))
        st, doc = call("/api/v1/filter/validate", {"expression": "resource_attributes['service.name'] == 'api'",
                                                   "fields": [{"field_name": "resource_attributes", "field_type": "map"}]})
        check("filter/validate: a map field indexes as a map", st == 204, str(doc))
        st, doc = call("/api/v1/filter/validate", {"expression": "severity_number >= 17", "source_type": "otlp.logs"})
        check("filter/validate against an OTLP source's schema", st == 204, str(doc))
        st, doc = call("/api/v1/filter/validate", {"expression": "x", "fields": [{"field_name": "x", "field_type": "uuid"}]})
        check("filter/validate: unknown field type", st == 400 and "unknown field type: uuid" in json.dumps(doc), str(doc))
        ev = {"type": "expr_lang_transform", "config": {"transform": [
            {"expression": "upper(status)", "output_name": "s", "output_type": "string"},
            {"expression": "toFloat('4')", "output_name": "f", "output_type": "float64"},
            {"expression": "toInt('0x1F')", "output_name": "zero", "output_type": "int"},
            {"expression": "'0x1F'", "output_name": "hex", "output_type": "int"},
            {"expression": "missing", "output_name": "m", "output_type": "string"},
            {"expression": "{'a': [1, 2.5, nil], '<': true}", "output_name": "o", "output_type": "map"}]},
              "sample": {"status": "ok"}}
        st, _, raw = post("/api/v1/transform/expression/evaluate", json.dumps(ev).encode(),
                          {"content-type": "application/json"}, port=s.admin_port)
        want = b'{"f":4.0,"hex":31,"m":"","o":{"\\u003c":true,"a":[1,2.5,null]},"s":"OK","zero":0}'
        check("evaluate: GlassFlow's output encoding, byte for byte", st == 200 and raw == want, f"{st} {raw!r}")
        ev["config"]["transform"] = [{"expression": "int(status)", "output_name": "n", "output_type": "int"}]
        st, doc = call("/api/v1/transform/expression/evaluate", ev)
        check("evaluate: a run-time error -> 400 transformation_error",
              st == 400 and doc.get("code") == "transformation_error"
              and doc["details"]["error"].startswith("execute transformation: run transformation 0: "), str(doc))
        ev["type"] = "sql"
        st, doc = call("/api/v1/transform/expression/evaluate", ev)
        check("evaluate: another type -> 400 invalid_transformation_type",
              st == 400 and doc.get("code") == "invalid_transformation_type", str(doc))
    finally:
        s.stop()


def run_all():
    harness.run_tests(test_all_stages_exact_rows, test_dedup_window_expires, test_api_checks,
                      test_clickstack_examples, test_dedup_kill9_under_load)
