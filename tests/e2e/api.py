"""The REST API (GlassFlow's, on the admin listener): every route and every answer checked
against the server's own OpenAPI document, the lifecycle under load from a real OTLP client
(the OpenTelemetry Python SDK's exporter), persistence across restarts and kill -9,
concurrent calls on one pipeline, dead-letter paging and reprocessing, the `sluice pipeline`
and `sluice dlq` commands, and GlassFlow's own Python SDK.
"""
import json
import os
import random
import subprocess
import threading
import time
import urllib.parse

from jsonschema import Draft202012Validator, RefResolver

import harness
from harness import (CH_HTTP, CH_TCP, DATA, ROOT, SLUICE, H, Sluice, ch, check, logs_pipeline,
                     logs_request, post, wait_rows)

PY_OTEL = os.path.join(ROOT, ".deps", "pyotel", "bin", "python")
PY_GF = os.path.join(ROOT, ".deps", "glassflow", "bin", "python")
CODES_400 = {"PIPELINE_ALREADY_IN_STATE", "PIPELINE_IN_TRANSITION", "INVALID_STATUS_TRANSITION",
             "PIPELINE_NOT_STOPPED_FOR_EDIT", "PIPELINE_NOT_STOPPED"}


class Api:
    """Calls to one server's REST API; with a contract, each answer is checked against the
    OpenAPI document (status declared for the operation, body valid for its schema)."""

    def __init__(self, sluice, token=None, contract=None):
        self.s, self.token, self.contract = sluice, token, contract

    def call(self, method, tmpl, pid=None, query="", body=None, token=None, want=None, check_contract=True):
        path = tmpl.replace("{id}", urllib.parse.quote(pid or "", safe="")) + (f"?{query}" if query else "")
        token = self.token if token is None else token
        headers = {"authorization": f"Bearer {token}"} if token else {}
        raw = b""
        if body is not None:
            raw = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers["content-type"] = "application/json"
        st, hdrs, data = post(path, raw, headers, method=method, port=self.s.admin_port)
        try:
            doc = json.loads(data) if data else None
        except ValueError:
            doc = data.decode(errors="replace")
        if self.contract and check_contract:
            self.contract.verify(method, tmpl, st, doc, data, hdrs)
        if want is not None:
            check(f"{method} {path} -> {want}", st == want, f"{st} {str(doc)[:400]}")
        return st, doc

    def status(self, pid):
        st, h = self.call("GET", "/api/v1/pipeline/{id}/health", pid, check_contract=False)
        return h.get("overall_status") if st == 200 else None

    def wait(self, pid, want, timeout=60):
        deadline, last = time.time() + timeout, None
        while time.time() < deadline:
            last = self.status(pid)
            if last == want:
                return True
            time.sleep(0.1)
        print(f"       {pid}: waited for {want}, last {last}")
        return False


class Contract:
    def __init__(self, doc):
        self.doc = doc
        self.resolver = RefResolver.from_schema(doc)
        self.seen = set()

    def verify(self, method, tmpl, status, doc, raw, headers):
        op = self.doc["paths"].get(tmpl, {}).get(method.lower())
        if op is None:
            check(f"{method} {tmpl} is in the OpenAPI document", False)
            return
        self.seen.add((method.lower(), tmpl))
        resp = op["responses"].get(str(status))
        if not check(f"{method} {tmpl} -> {status} is declared", resp is not None,
                     f"declared {sorted(op['responses'])}: {raw[:300]}"):
            return
        content = resp.get("content")
        if not content:
            check(f"{method} {tmpl} -> {status} has no JSON body", status != 204 or raw == b"", raw[:200])
            return
        ctype, spec = next(iter(content.items()))
        check(f"{method} {tmpl} -> {status} is {ctype}", headers.get("content-type", "").startswith(ctype),
              headers.get("content-type"))
        errors = list(Draft202012Validator(spec["schema"], resolver=self.resolver).iter_errors(doc))
        check(f"{method} {tmpl} -> {status} body fits its schema", not errors,
              "; ".join(e.message for e in errors[:3]) + f" in {str(doc)[:300]}")


def api_doc(pid, **sink):
    """A v3 logs pipeline into otel.otel_logs over ClickHouse's HTTP interface."""
    return logs_pipeline(pid, **sink)


def send_logs(s, pid, run, n=5):
    req = logs_request(run, n, "api-e2e")
    return s.post("/v1/logs", req.SerializeToString(), H(pid, "application/x-protobuf"))[0]


def rows(run):
    return int(ch(f"SELECT count() FROM otel.otel_logs WHERE has(LogAttributes.value, '{run}')").strip())


# ------------------------------------------------------------------ contract

def test_contract():
    print("REST API: every route and every answer against the OpenAPI document")
    s = Sluice("api-contract", [logs_pipeline("file-logs")], config={"admin": {"token": "adm1n-t0ken"}}).start()
    a = Api(s, token="adm1n-t0ken")
    try:
        st, doc = a.call("GET", "/api/v1/openapi.json", want=200, check_contract=False)
        a.contract = Contract(doc)
        a.call("GET", "/api/v1/openapi.json", want=200)
        check("OpenAPI 3.1 with GlassFlow's paths", doc.get("openapi") == "3.1.0" and
              "/api/v1/pipeline/{id}/dlq/consume" in doc["paths"], str(doc.get("openapi")))
        # The admin token: every route but the health ones.
        st, body = a.call("GET", "/api/v1/pipeline", token="", check_contract=False)
        check("no token: 401", st == 401, str(st))
        st, _ = a.call("GET", "/api/v1/pipeline", token="wrong", check_contract=False)
        check("wrong token: 401", st == 401, str(st))
        a.call("GET", "/api/v1/healthz", token="", want=200)
        st, h2 = a.call("GET", "/api/v2/healthz", token="", want=200)
        check("v2 healthz body", h2 == {"status": "ok"}, str(h2))
        st, plat = a.call("GET", "/api/v1/platform", want=200)
        check("platform: local", plat.get("orchestrator") == "local", str(plat))

        # Create: invalid documents name the field at fault.
        st, err = a.call("POST", "/api/v1/pipeline", body=b"{not json", want=400)
        check("bad JSON: 400 invalid json", err.get("message", "").startswith("invalid json:"), str(err))
        bad = api_doc("Bad_ID")
        st, err = a.call("POST", "/api/v1/pipeline", body=bad, want=422)
        check("bad id: the field is pipeline_id", [e["field"] for e in err.get("errors", [])] == ["pipeline_id"], str(err))
        bad = api_doc("api-bad-keys")
        bad["sink"]["max_batch_sise"] = 5
        bad["sources"][0]["sourse_id"] = "x"
        st, err = a.call("POST", "/api/v1/pipeline", body=bad, want=422)
        fields = sorted(e["field"] for e in err.get("errors", []))
        check("unknown keys: each with its path", fields == ["sink.max_batch_sise", "sources[0].sourse_id"], str(err))
        bad = api_doc("api-bad-field")
        bad["sink"]["mapping"][1]["name"] = "no_such_field"
        bad["sink"]["mapping"][2]["column_type"] = "Strnig"
        st, err = a.call("POST", "/api/v1/pipeline", body=bad, want=422)
        fields = sorted(e["field"] for e in err.get("errors", []))
        check("fields outside the OTLP schema and unknown types: each named",
              fields == ["sink.mapping[1].name", "sink.mapping[2].column_type"], str(err))
        bad = api_doc("api-bad-table", table="no_such_table")
        st, err = a.call("POST", "/api/v1/pipeline", body=bad, want=422)
        check("a missing table: sink.table", [e["field"] for e in err.get("errors", [])] == ["sink.table"], str(err))
        bad = api_doc("api-bad-column")
        bad["sink"]["mapping"][1]["column_name"] = "NoSuchColumn"
        st, err = a.call("POST", "/api/v1/pipeline", body=bad, want=422)
        check("a column the table lacks: its mapping entry",
              [e["field"] for e in err.get("errors", [])] == ["sink.mapping[1]"], str(err))
        check("422 carries details.error (GlassFlow's SDK shows it)", "error" in (err.get("details") or {}), str(err))

        a.call("POST", "/api/v1/pipeline", body=api_doc("api-logs"), want=204)
        st, err = a.call("POST", "/api/v1/pipeline", body=api_doc("api-logs"), want=409)
        st, err = a.call("POST", "/api/v1/pipeline", body=api_doc("file-logs"), want=409)
        check("the receivers route to the new pipeline at once", a.wait("api-logs", "Running"))
        check("records go in", send_logs(s, "api-logs", "api-c-1") == 200)
        check("and land", wait_rows("SELECT count() FROM otel.otel_logs WHERE has(LogAttributes.value, 'api-c-1')", 5))

        st, lst = a.call("GET", "/api/v1/pipeline", want=200)
        by_id = {p["pipeline_id"]: p for p in lst}
        check("list: both, with their origin", by_id.get("api-logs", {}).get("managed_by") == "api" and
              by_id.get("file-logs", {}).get("managed_by") == "file", str(list(by_id)))
        st, got = a.call("GET", "/api/v1/pipeline/{id}", "api-logs", want=200)
        check("get: the document as created", got.get("sink", {}).get("table") == "otel_logs" and
              got.get("pipeline_id") == "api-logs", str(got)[:200])
        a.call("GET", "/api/v1/pipeline/{id}", "api-logs", query="schema=logs:1", want=200)
        a.call("GET", "/api/v1/pipeline/{id}", "api-logs", query="schema=nope", want=400)
        a.call("GET", "/api/v1/pipeline/{id}", "api-logs", query="schema=other:1", want=400)
        a.call("GET", "/api/v1/pipeline/{id}", "no-such-pipe", want=404)
        st, fdoc = a.call("GET", "/api/v1/pipeline/{id}", "file-logs", want=200)
        check("a file pipeline's document", fdoc.get("pipeline_id") == "file-logs", str(fdoc)[:200])

        a.call("PATCH", "/api/v1/pipeline/{id}", "api-logs", body={"name": "Renamed logs"}, want=204)
        a.call("PATCH", "/api/v1/pipeline/{id}", "api-logs", body={"nom": "x"}, want=422)
        st, got = a.call("GET", "/api/v1/pipeline/{id}", "api-logs")
        check("rename shows in the document", got.get("name") == "Renamed logs", str(got.get("name")))
        a.call("PATCH", "/api/v1/pipeline/{id}/metadata", "api-logs", body={"metadata": {"tags": ["prod", "eu"]}}, want=204)
        a.call("PATCH", "/api/v1/pipeline/{id}/metadata", "api-logs", body={"metadata": {"tags": "prod"}}, want=422)
        st, lst = a.call("GET", "/api/v1/pipeline")
        tags = {p["pipeline_id"]: p["metadata"]["tags"] for p in lst}
        check("tags show in the list", tags.get("api-logs") == ["prod", "eu"], str(tags))
        st, h = a.call("GET", "/api/v1/pipeline/{id}/health", "api-logs", want=200)
        check("health: Running, renamed, with stats", h.get("overall_status") == "Running" and
              h.get("pipeline_name") == "Renamed logs" and h["stats"]["records_in"] == 5, str(h)[:300])
        a.call("GET", "/api/v1/pipeline/{id}/health", "nope-nope", want=404)
        st, res = a.call("GET", "/api/v1/pipeline/{id}/resources", "api-logs", want=200)
        check("resources: the buffer's limits, immutable", res["pipeline_resources"]["nats"]["stream"]["maxBytes"] ==
              str(256 << 20) and "nats/stream/maxBytes" in res["fields_policy"]["immutable"], str(res))
        a.call("GET", "/api/v1/pipeline/{id}/resources/validation", "api-logs", want=200)
        a.call("PUT", "/api/v1/pipeline/{id}/resources", "api-logs", body={"pipeline_resources": {"sink": {"replicas": 2}}}, want=400)

        # Running: edit and delete are refused with GlassFlow's codes.
        st, err = a.call("POST", "/api/v1/pipeline/{id}/edit", "api-logs", body=api_doc("api-logs"), want=400)
        check("edit while running: PIPELINE_NOT_STOPPED_FOR_EDIT", err.get("code") == "PIPELINE_NOT_STOPPED_FOR_EDIT", str(err))
        st, err = a.call("DELETE", "/api/v1/pipeline/{id}", "api-logs", want=400)
        check("delete while running: GlassFlow's message", err.get("message", "").startswith(
            "pipeline can only be deleted if it's stopped or terminated"), str(err))
        a.call("POST", "/api/v1/pipeline/{id}/resume", "api-logs", want=400)
        a.call("POST", "/api/v1/pipeline/{id}/stop", "api-logs", want=204)
        check("stop: Stopped", a.wait("api-logs", "Stopped"))
        st, err = a.call("POST", "/api/v1/pipeline/{id}/stop", "api-logs", want=400)
        check("stop again: PIPELINE_ALREADY_IN_STATE", err.get("code") == "PIPELINE_ALREADY_IN_STATE", str(err))
        st, err = a.call("POST", "/api/v1/pipeline/{id}/terminate", "api-logs", want=400)
        check("a stopped pipeline still takes records into its buffer", send_logs(s, "api-logs", "api-c-2") == 200)
        time.sleep(1)
        check("which wait there", rows("api-c-2") == 0)
        a.call("PUT", "/api/v1/pipeline/{id}/resources", "api-logs",
               body={"pipeline_resources": {"nats": {"stream": {"maxBytes": "1Gi"}}}}, want=422)
        a.call("PUT", "/api/v1/pipeline/{id}/resources", "api-logs",
               body={"pipeline_resources": {"nats": 5}}, want=422)
        st, err = a.call("PUT", "/api/v1/pipeline/{id}/resources", "api-logs",
                         body={"pipeline_resources": {"foo": {"bar": 1}}}, want=422)
        check("resources: an unknown key is refused, not stored", "foo" in json.dumps(err), str(err))
        st, res = a.call("GET", "/api/v1/pipeline/{id}/resources", "api-logs")
        a.call("PUT", "/api/v1/pipeline/{id}/resources", "api-logs",
               body={"pipeline_resources": res["pipeline_resources"]}, want=200)
        st, res = a.call("PUT", "/api/v1/pipeline/{id}/resources", "api-logs",
                         body={"pipeline_resources": {"sink": {"replicas": 1}}}, want=200)
        edited = api_doc("other-id")
        a.call("POST", "/api/v1/pipeline/{id}/edit", "api-logs", body=edited, want=400)
        edited = api_doc("api-logs", max_batch_size=7)
        edited["sources"][0]["type"] = "otlp.traces"
        st, err = a.call("POST", "/api/v1/pipeline/{id}/edit", "api-logs", body=edited, want=422)
        check("edit cannot change the source type", [e["field"] for e in err.get("errors", [])] == ["sources[0].type"], str(err))
        a.call("POST", "/api/v1/pipeline/{id}/edit", "api-logs", body=api_doc("api-logs", max_batch_size=7), want=204)
        check("edit resumes", a.wait("api-logs", "Running"))
        check("what the stopped pipeline buffered lands", wait_rows(
            "SELECT count() FROM otel.otel_logs WHERE has(LogAttributes.value, 'api-c-2')", 5))
        st, got = a.call("GET", "/api/v1/pipeline/{id}", "api-logs")
        check("the edited document", got.get("sink", {}).get("max_batch_size") == 7, str(got.get("sink"))[:200])
        a.call("POST", "/api/v1/pipeline/{id}/terminate", "api-logs", want=204)
        check("terminate: Stopped", a.wait("api-logs", "Stopped"))
        a.call("POST", "/api/v1/pipeline/{id}/resume", "api-logs", want=204)
        check("resume: Running", a.wait("api-logs", "Running"))
        for verb in ("stop", "terminate", "resume"):
            a.call("POST", f"/api/v1/pipeline/{{id}}/{verb}", "nope-nope", want=404)

        # Files stay declarative.
        st, err = a.call("DELETE", "/api/v1/pipeline/{id}", "file-logs", want=409)
        check("a file pipeline's 409 names the file", "file-logs.json" in err.get("message", ""), str(err))
        st, err = a.call("POST", "/api/v1/pipeline/{id}/edit", "file-logs", body=logs_pipeline("file-logs"), want=409)
        a.call("POST", "/api/v1/pipeline/{id}/stop", "file-logs", want=409)

        # Dead letters (the queue is empty here; DLQ contents are tested below).
        st, state = a.call("GET", "/api/v1/pipeline/{id}/dlq/state", "api-logs", want=200)
        check("DLQ state: empty", state.get("total_messages") == 0 and state.get("unconsumed_messages") == 0, str(state))
        st, got = a.call("GET", "/api/v1/pipeline/{id}/dlq/consume", "api-logs", query="batch_size=10", want=200)
        check("consume of an empty queue: []", got == [], str(got))
        a.call("GET", "/api/v1/pipeline/{id}/dlq/consume", "api-logs", query="batch_size=0", want=422)
        a.call("GET", "/api/v1/pipeline/{id}/dlq/consume", "api-logs", query="batch_size=1001", want=422)
        a.call("GET", "/api/v1/pipeline/{id}/dlq/consume", "api-logs", query="batch_size=x", want=422)
        a.call("GET", "/api/v1/pipeline/{id}/dlq/list", "api-logs", want=200)
        a.call("GET", "/api/v1/pipeline/{id}/dlq/list", "api-logs", query="cursor=abc", want=422)
        a.call("POST", "/api/v1/pipeline/{id}/dlq/purge", "api-logs", want=204)
        st, r = a.call("POST", "/api/v1/pipeline/{id}/dlq/reprocess", "api-logs", body={"mode": "all"}, want=202)
        a.call("POST", "/api/v1/pipeline/{id}/dlq/reprocess", "api-logs", body={"mode": "some"}, want=422)
        a.call("POST", "/api/v1/pipeline/{id}/dlq/reprocess", "api-logs",
               body={"mode": "selected", "message_ids": list(range(1, 1002))}, want=422)
        for route in ("state", "list", "consume"):
            a.call("GET", f"/api/v1/pipeline/{{id}}/dlq/{route}", "nope-nope", want=404)
        a.call("POST", "/api/v1/pipeline/{id}/dlq/purge", "nope-nope", want=404)
        a.call("POST", "/api/v1/pipeline/{id}/dlq/reprocess", "nope-nope", body={}, want=404)
        a.call("POST", "/api/v1/filter/validate", body={"expression": "x > 1", "fields": []}, want=400)
        a.call("POST", "/api/v1/filter/validate",
               body={"expression": "x > 1", "fields": [{"field_name": "x", "field_type": "int"}]}, want=204)
        a.call("POST", "/api/v1/filter/validate", body={"fields": []}, want=422)
        a.call("POST", "/api/v1/transform/expression/evaluate", body={"type": "expr_lang_transform"}, want=400)
        st, out = a.call("POST", "/api/v1/transform/expression/evaluate", want=200, body={
            "type": "expr_lang_transform", "sample": {"a": "x"},
            "config": {"transform": [{"expression": "upper(a)", "output_name": "b", "output_type": "string"}]}})
        check("evaluate answers the output record", out == {"b": "X"}, str(out))

        # v2 -> v3.
        v2 = {"version": "v2", "pipeline_id": "old-one", "name": "Old",
              "source": {"type": "kafka", "connection_params": {"brokers": ["k:9092"]},
                         "topics": [{"name": "events", "consumer_group_initial_offset": "earliest",
                                     "deduplication": {"enabled": True, "id_field": "id", "time_window": "1h"}}]},
              "filter": {"enabled": True, "expression": "level == 'debug'"},
              "sink": {"type": "clickhouse", "host": "ch", "port": "9000", "database": "db", "username": "u",
                       "password": "c2VjcmV0", "table": "t", "max_batch_size": 100,
                       "table_mapping": [{"source_id": "events", "field_name": "id", "column_name": "Id",
                                          "column_type": "String"}]},
              "schema": {"fields": [{"source_id": "events", "name": "id", "type": "string"}]}}
        st, v3 = a.call("POST", "/api/v1/pipeline/migrate-preview", body=v2, want=200)
        check("migrate: v3 with sources, transforms and a plain password",
              v3.get("version") == "v3" and v3["sources"][0]["topic"] == "events" and
              v3["sources"][0]["schema_fields"] == [{"name": "id", "type": "string"}] and
              v3["sink"]["connection_params"]["password"] == "secret" and
              v3["sink"]["mapping"] == [{"name": "id", "column_name": "Id", "column_type": "String"}] and
              {t["type"] for t in v3["transforms"]} == {"dedup", "filter"}, json.dumps(v3)[:400])
        check("migrate: v2's drop filter becomes a keep filter",
              [t for t in v3["transforms"] if t["type"] == "filter"][0]["config"]["expression"] ==
              "!(level == 'debug')", json.dumps(v3.get("transforms")))
        a.call("POST", "/api/v1/pipeline/migrate-preview", body={"version": "v2", "pipeline_id": "x"}, want=422)
        a.call("POST", "/api/v1/pipeline/migrate-preview", body=b"[", want=400)

        # Bodies whose values have the wrong types: 422, never a dropped connection.
        bad = api_doc("api-types")
        bad["pipeline_id"] = False
        bad["sources"][0]["source_id"] = 7
        bad["metadata"] = "tags"
        st, err = a.call("POST", "/api/v1/pipeline", body=bad, want=422)
        check("wrong JSON types: each field named", sorted(e["field"] for e in err.get("errors", [])) ==
              ["metadata", "pipeline_id", "sources[0].source_id"], str(err))
        raw = json.dumps(api_doc("api-dup-a"))[:-1] + ', "pipeline_id": "api-dup-b"}'
        st, err = a.call("POST", "/api/v1/pipeline", body=raw.encode(), want=422)
        check("a duplicate key is refused", [e["field"] for e in err.get("errors", [])] == ["pipeline_id"], str(err))
        st, err = a.call("POST", "/api/v1/pipeline", body=json.dumps(api_doc("api-utf8")).encode()
                         .replace(b'"OTLP logs', b'"\xff\xfe logs'), want=400)
        a.call("POST", "/api/v1/pipeline/{id}/dlq/reprocess", "api-logs", body={"mode": 5}, want=422)
        a.call("POST", "/api/v1/pipeline/{id}/dlq/reprocess", "api-logs",
               body={"mode": "selected", "message_ids": ["5abc", "-5"]}, want=422)
        # A pipeline whose ClickHouse does not answer is accepted, Failed, and can be stopped.
        down = api_doc("api-down")
        down["sink"]["connection_params"].update({"host": "127.0.0.1", "port": "1", "http_port": "1"})
        a.call("POST", "/api/v1/pipeline", body=down, want=204)
        check("unreachable ClickHouse: Failed", a.wait("api-down", "Failed"))
        a.call("POST", "/api/v1/pipeline/{id}/stop", "api-down", want=204)
        check("a Failed pipeline stops (it still buffers)", a.wait("api-down", "Stopped"))
        a.call("DELETE", "/api/v1/pipeline/{id}", "api-down", want=204)

        # Methods and paths.
        a.call("PUT", "/api/v1/pipeline", want=405, check_contract=False)
        a.call("POST", "/api/v1/pipeline//stop", want=404, check_contract=False)
        st, err = a.call("POST", "/api/v1/pipeline", body=b"x" * (5 << 20), want=413)
        st, err = a.call("GET", "/api/v1/nothing-here", want=404, check_contract=False)

        # Delete: only when stopped; the buffer, the dead letters and the id go.
        a.call("POST", "/api/v1/pipeline/{id}/stop", "api-logs", want=204)
        check("stopped for delete", a.wait("api-logs", "Stopped"))
        pdir = os.path.join(s.data_dir, "pipelines", "api-logs")
        check("its data directory exists", os.path.isdir(pdir))
        a.call("DELETE", "/api/v1/pipeline/{id}", "api-logs", want=204)
        a.call("GET", "/api/v1/pipeline/{id}", "api-logs", want=404)
        a.call("DELETE", "/api/v1/pipeline/{id}", "api-logs", want=404)
        check("the receivers answer 404 at once", send_logs(s, "api-logs", "api-c-3") == 404)
        check("buffer and dead letters deleted", not os.path.exists(pdir))
        check("the store has no record", not os.path.exists(os.path.join(s.data_dir, "api", "pipelines", "api-logs.json")))
        a.call("POST", "/api/v1/pipeline", body=api_doc("api-logs"), want=204)
        check("the id can be used again, with an empty buffer", a.wait("api-logs", "Running"))
        st, h = a.call("GET", "/api/v1/pipeline/{id}/health", "api-logs", want=200)
        check("a new pipeline, nothing carried over", h["stats"]["buffer"]["records"] == 0, str(h.get("stats")))

        # The console's routes.
        a.call("POST", "/api/v1/pipeline/validate", body=api_doc("api-valid"), want=204)
        a.call("GET", "/api/v1/pipeline/{id}", "api-valid", want=404)
        st, err = a.call("POST", "/api/v1/pipeline/validate", body=api_doc("api-valid", table="no_such"), want=422)
        check("validate: the live table checked", any(e["field"] == "sink.table" for e in (err or {}).get("errors", [])),
              str(err)[:300])
        st, view = a.call("GET", "/api/v1/pipeline/{id}/table", "api-logs", want=200)
        check("table: the live columns beside the mapping", view and view["tables"][0]["table"] == "otel_logs" and
              any(c["name"] == "Body" for c in view["tables"][0]["columns"]) and
              all(m["in_table"] for m in view["mapping"]), str(view)[:300])
        a.call("GET", "/api/v1/pipeline/{id}/table", "no-such-pipeline", want=404)
        st, sent = a.call("POST", "/api/v1/pipeline/{id}/test-record", "api-logs", want=202)
        where, deadline = {}, time.time() + 30
        while time.time() < deadline:
            st, where = a.call("GET", "/api/v1/pipeline/{id}/test-record", "api-logs",
                               query=f"test_id={sent['test_id']}", want=200 if not where else None)
            if where.get("status") != "buffered":
                break
            time.sleep(0.2)
        check("test record: landed in its table", where.get("status") == "landed" and
              where.get("table") == "otel.otel_logs" and "Body" in where.get("columns", []), str(where))
        check("test record: exactly one row", ch(f"SELECT count() FROM otel.otel_logs WHERE Body = "
                                                 f"'sluice test record {sent['marker']}'").strip() == "1")
        a.call("GET", "/api/v1/pipeline/{id}/test-record", "api-logs", query="test_id=nope", want=422)
        deadline = time.time() + 10  # sampled every 2 s
        while True:
            st, hist = a.call("GET", "/api/v1/stats/history")
            if "api-logs" in (hist or {}).get("pipelines", {}) or time.time() > deadline:
                break
            time.sleep(0.5)
        check("history: the pipeline's samples", st == 200 and "api-logs" in hist["pipelines"], str(hist)[:200])
        st, page = a.call("GET", "/api/v1/pipeline/{id}/dlq/list", "api-logs", query="reason=no_such_reason", want=200)

        missing = sorted(f"{m.upper()} {p}" for p, ops in doc["paths"].items() for m in ops
                         if (m, p) not in a.contract.seen)
        check("every route of the document was exercised", not missing, str(missing))
    finally:
        s.stop()


# ------------------------------------------------------------------ lifecycle under load

class Sender(threading.Thread):
    """The OpenTelemetry Python SDK's OTLP/HTTP exporter in a loop, one run (20 records,
    one export) after another; remembers which runs it was told were accepted."""

    def __init__(self, s, pid):
        super().__init__(daemon=True)
        self.s, self.pid, self.stop_flag = s, pid, threading.Event()
        self.ok, self.failed = [], []

    def run(self):
        i = 0
        while not self.stop_flag.is_set():
            run = f"load-{self.pid}-{i}"
            i += 1
            p = subprocess.run([PY_OTEL, os.path.join(ROOT, "tests", "clients", "py_send.py"), "--protocol", "http",
                                "--endpoint", f"http://127.0.0.1:{self.s.http_port}/v1/logs",
                                "--pipeline", self.pid, "--run", run, "--count", "20", "--timeout", "10"],
                               capture_output=True, text=True)
            (self.ok if p.returncode == 0 else self.failed).append(run)


def test_lifecycle_under_load():
    print("REST API: stop, resume, terminate and edit while a real OTLP client sends; nothing acknowledged is lost")
    s = Sluice("api-load", []).start()
    a = Api(s)
    try:
        a.call("POST", "/api/v1/pipeline", body=api_doc("load-logs"), want=204)
        check("Running", a.wait("load-logs", "Running"))
        sender = Sender(s, "load-logs")
        sender.start()
        time.sleep(2)
        a.call("POST", "/api/v1/pipeline/{id}/stop", "load-logs", want=204)
        check("stop under load drains and stops", a.wait("load-logs", "Stopped"))
        before = int(ch("SELECT count() FROM otel.otel_logs WHERE has(LogAttributes.value, 'api-e2e') = 0 AND "
                        "startsWith(Body, 'run=load-load-logs')").strip())
        time.sleep(1.5)
        after = int(ch("SELECT count() FROM otel.otel_logs WHERE startsWith(Body, 'run=load-load-logs')").strip())
        check("while Stopped nothing is written, the client is still answered",
              after == before and len(sender.ok) > 0, f"{before} -> {after}, ok {len(sender.ok)}")
        a.call("POST", "/api/v1/pipeline/{id}/resume", "load-logs", want=204)
        check("resume", a.wait("load-logs", "Running"))
        time.sleep(1.5)
        a.call("POST", "/api/v1/pipeline/{id}/terminate", "load-logs", want=204)
        check("terminate", a.wait("load-logs", "Stopped"))
        a.call("POST", "/api/v1/pipeline/{id}/edit", "load-logs", body=api_doc("load-logs", max_batch_size=50), want=204)
        check("edit resumes under load", a.wait("load-logs", "Running"))
        time.sleep(1.5)
        sender.stop_flag.set()
        sender.join(timeout=60)
        check("the client kept being answered", len(sender.ok) >= 5 and not sender.failed,
              f"ok {len(sender.ok)} failed {sender.failed}")
        counts = {}
        deadline = time.time() + 60
        while time.time() < deadline:
            got = ch("SELECT extract(Body, 'run=([^ ]+)') AS r, count() FROM otel.otel_logs WHERE "
                     "startsWith(Body, 'run=load-load-logs') GROUP BY r FORMAT TabSeparated")
            counts = {k: int(v) for k, v in (l.split("\t") for l in got.splitlines())}
            if all(counts.get(r) == 20 for r in sender.ok):
                break
            time.sleep(0.5)
        short = {r: counts.get(r, 0) for r in sender.ok if counts.get(r) != 20}
        check(f"every acknowledged record of {len(sender.ok)} runs is in ClickHouse exactly once", not short, str(short)[:400])
        a.call("POST", "/api/v1/pipeline/{id}/stop", "load-logs", want=204)
        check("stopped", a.wait("load-logs", "Stopped"))
        a.call("DELETE", "/api/v1/pipeline/{id}", "load-logs", want=204)
        p = subprocess.run([PY_OTEL, os.path.join(ROOT, "tests", "clients", "py_send.py"), "--protocol", "http",
                            "--endpoint", f"http://127.0.0.1:{s.http_port}/v1/logs", "--pipeline", "load-logs",
                            "--run", "after-delete", "--count", "1"], capture_output=True, text=True)
        check("after delete the exporter is told the pipeline is gone (404)", p.returncode != 0 and "404" in p.stdout,
              p.stdout[-300:])
    finally:
        s.stop()


def test_lifecycle_chaos():
    print("REST API: random stop/terminate/resume under load: every acknowledged record lands once")
    s = Sluice("api-chaos", []).start()
    a = Api(s)
    try:
        a.call("POST", "/api/v1/pipeline", body=api_doc("chaos-logs", max_batch_size=200), want=204)
        check("Running", a.wait("chaos-logs", "Running"))
        acked, done = [], threading.Event()

        def send(k):
            i = 0
            while not done.is_set():
                run = f"chaos-{k}-{i}"
                i += 1
                if send_logs(s, "chaos-logs", run, 20) == 200:
                    acked.append(run)

        senders = [threading.Thread(target=send, args=(k,)) for k in range(2)]
        for t in senders:
            t.start()
        rnd = random.Random(7)
        answers = []
        end = time.time() + 12
        while time.time() < end:
            verb = rnd.choice(["stop", "terminate", "resume", "resume"])
            st, body = a.call("POST", f"/api/v1/pipeline/{{id}}/{verb}", "chaos-logs", check_contract=False)
            answers.append(st)
            time.sleep(rnd.uniform(0.01, 0.15))
        done.set()
        for t in senders:
            t.join()
        check("the lifecycle answered 204 or a GlassFlow refusal", set(answers) <= {204, 400}, str(set(answers)))
        deadline = time.time() + 30
        while time.time() < deadline and a.status("chaos-logs") not in ("Running", "Stopped", "Failed"):
            time.sleep(0.1)
        if a.status("chaos-logs") == "Stopped":
            a.call("POST", "/api/v1/pipeline/{id}/resume", "chaos-logs", want=204)
        check("Running at the end", a.wait("chaos-logs", "Running"))
        want = {f"{r} {i}" for r in acked for i in range(20)}
        got = {}
        deadline = time.time() + 60
        while time.time() < deadline:
            out = ch("SELECT Body, count() FROM otel.otel_logs WHERE startsWith(Body, 'chaos-') "
                     "GROUP BY Body FORMAT TabSeparated")
            got = {b: int(n) for b, n in (l.split("\t") for l in out.splitlines())}
            if want <= set(got):
                break
            time.sleep(0.5)
        missing = want - set(got)
        check(f"none of {len(want)} acknowledged records lost", not missing and len(acked) > 20,
              f"{len(missing)} missing, e.g. {sorted(missing)[:3]}")
        dups = {b: n for b, n in got.items() if n != 1}
        check("none inserted twice", not dups, f"{len(dups)} twice, e.g. {list(dups.items())[:3]}")
        st, state = a.call("GET", "/api/v1/pipeline/{id}/dlq/state", "chaos-logs")
        check("operator stops send nothing to the dead-letter queue", state.get("total_messages") == 0, str(state))
    finally:
        s.stop()


# ------------------------------------------------------------------ persistence

def test_persistence():
    print("REST API: pipelines and their states survive restarts and kill -9, with their buffers")
    s = Sluice("api-persist", []).start()
    a = Api(s)
    try:
        a.call("POST", "/api/v1/pipeline", body=api_doc("keep-running"), want=204)
        a.call("POST", "/api/v1/pipeline", body=api_doc("keep-stopped"), want=204)
        check("both Running", a.wait("keep-running", "Running") and a.wait("keep-stopped", "Running"))
        a.call("POST", "/api/v1/pipeline/{id}/stop", "keep-stopped", want=204)
        check("one Stopped", a.wait("keep-stopped", "Stopped"))
        check("the stopped one buffers", send_logs(s, "keep-stopped", "persist-1", 30) == 200)
        junk = os.path.join(s.data_dir, "api", "pipelines", "junk-record.json")
        open(junk, "w").write('{"format": 1, "pipeline_id": ')
        # A record whose document no longer loads (say, after an upgrade tightened a rule).
        json.dump({"format": 1, "pipeline_id": "broken-doc", "desired": "Running", "name": "broken-doc",
                   "tags": [], "created_at_ms": 1, "updated_at_ms": 1,
                   "document": json.dumps({"version": "v3", "pipeline_id": "broken-doc"})},
                  open(os.path.join(s.data_dir, "api", "pipelines", "broken-doc.json"), "w"))
        s.stop()
        s.start()
        check("after a restart: Running", a.wait("keep-running", "Running"))
        check("after a restart: Stopped", a.wait("keep-stopped", "Stopped"))
        check("a damaged record is reported and the others load", "junk-record.json" in s.log())
        st, h = a.call("GET", "/api/v1/pipeline/{id}/health", "broken-doc", want=200)
        check("a document that no longer loads: Failed, with the reason",
              h.get("overall_status") == "Failed" and "sources" in h.get("load_error", ""), str(h))
        check("its clients are told to retry (503), not that it is gone",
              send_logs(s, "broken-doc", "broken-1") == 503)
        p = subprocess.run([SLUICE, "status", "--admin", f"127.0.0.1:{s.admin_port}"], capture_output=True, text=True)
        check("sluice status shows it with the reason", p.returncode == 0 and "broken-doc" in p.stdout and
              "keep-running" in p.stdout, p.stdout + p.stderr)
        a.call("POST", "/api/v1/pipeline/{id}/resume", "broken-doc", want=422)
        a.call("DELETE", "/api/v1/pipeline/{id}", "broken-doc", want=204)
        check("the stopped one's records still wait", rows("persist-1") == 0)
        check("and it still buffers", send_logs(s, "keep-stopped", "persist-2", 10) == 200)
        s.kill9()
        s.start()
        check("after kill -9: Running", a.wait("keep-running", "Running"))
        check("after kill -9: Stopped", a.wait("keep-stopped", "Stopped"))
        st, h = a.call("GET", "/api/v1/pipeline/{id}/health", "keep-stopped")
        check("its buffer is intact", h["stats"]["buffer"]["records"] == 40, str(h.get("stats")))
        a.call("POST", "/api/v1/pipeline/{id}/resume", "keep-stopped", want=204)
        check("resumed, every buffered record lands",
              wait_rows("SELECT count() FROM otel.otel_logs WHERE has(LogAttributes.value, 'persist-1') "
                        "OR has(LogAttributes.value, 'persist-2')", 40, timeout=30))
        # kill -9 in the middle of a stop: the pipeline comes back Stopped, nothing lost.
        ch("SYSTEM STOP MERGES")  # noqa: harmless; keeps the server busy-free
        check("records to drain", send_logs(s, "keep-running", "persist-3", 25) == 200)
        a.call("POST", "/api/v1/pipeline/{id}/stop", "keep-running", want=204)
        s.kill9()
        s.start()
        check("killed while Stopping: back Stopped", a.wait("keep-running", "Stopped"))
        a.call("POST", "/api/v1/pipeline/{id}/resume", "keep-running", want=204)
        check("and nothing lost", wait_rows(
            "SELECT count() >= 25 FROM otel.otel_logs WHERE has(LogAttributes.value, 'persist-3')", 1, timeout=30))
        ch("SYSTEM START MERGES")
    finally:
        s.stop()


# ------------------------------------------------------------------ concurrency

def test_concurrency():
    print("REST API: concurrent calls on one pipeline get GlassFlow's answers and leave it consistent")
    s = Sluice("api-race", []).start()
    a = Api(s)
    try:
        outcomes = []
        lock = threading.Lock()

        def create():
            st, body = a.call("POST", "/api/v1/pipeline", body=api_doc("race-logs"), check_contract=False)
            with lock:
                outcomes.append(st)
        threads = [threading.Thread(target=create) for _ in range(8)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        check("eight creates of one id: one 204, seven 409", sorted(outcomes) == [204] + [409] * 7, str(outcomes))
        check("Running", a.wait("race-logs", "Running"))
        answers = []
        stop_at = time.time() + 4

        def hammer(seed):
            rnd = random.Random(seed)
            while time.time() < stop_at:
                verb = rnd.choice(["stop", "terminate", "resume", "edit", "delete"])
                if verb == "edit":
                    st, body = a.call("POST", "/api/v1/pipeline/{id}/edit", "race-logs", body=api_doc("race-logs"),
                                      check_contract=False)
                elif verb == "delete":
                    st, body = a.call("DELETE", "/api/v1/pipeline/{id}", "race-logs", check_contract=False)
                    if st == 204:  # put it back for the others
                        a.call("POST", "/api/v1/pipeline", body=api_doc("race-logs"), check_contract=False)
                else:
                    st, body = a.call("POST", f"/api/v1/pipeline/{{id}}/{verb}", "race-logs", check_contract=False)
                with lock:
                    answers.append((verb, st, (body or {}).get("code") if isinstance(body, dict) else None))
        threads = [threading.Thread(target=hammer, args=(i,)) for i in range(12)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        odd = [x for x in answers if not (x[1] in (204, 404) or (x[1] == 400 and x[2] in CODES_400))]
        # DELETE while dead-letter readers run: 204, and the readers 200 or 404, never a 500.
        a.wait("race-logs", "Running", timeout=10)
        for _ in range(3):
            st, _ = a.call("GET", "/api/v1/pipeline/{id}/health", "race-logs", check_contract=False)
            if st == 404:
                a.call("POST", "/api/v1/pipeline", body=api_doc("race-logs"), check_contract=False)
            a.wait("race-logs", "Running", timeout=10)
            a.call("POST", "/api/v1/pipeline/{id}/stop", "race-logs", check_contract=False)
            a.wait("race-logs", "Stopped", timeout=20)
            stop_readers = threading.Event()
            reads = []

            def reader():
                while not stop_readers.is_set():
                    for route in ("state", "list", "consume"):
                        st, _ = a.call("GET", f"/api/v1/pipeline/{{id}}/dlq/{route}", "race-logs",
                                       check_contract=False)
                        reads.append(st)
            rs = [threading.Thread(target=reader) for _ in range(4)]
            [t.start() for t in rs]
            time.sleep(0.2)
            st, body = a.call("DELETE", "/api/v1/pipeline/{id}", "race-logs", check_contract=False)
            stop_readers.set()
            [t.join() for t in rs]
            check("delete among dead-letter readers: 204", st == 204, f"{st} {body}")
            check("the readers: 200 or 404", set(reads) <= {200, 404}, str(set(reads)))
            check("nothing left on disk", not os.path.exists(os.path.join(s.data_dir, "pipelines", "race-logs")))
            a.call("POST", "/api/v1/pipeline", body=api_doc("race-logs"), check_contract=False)
        check(f"{len(answers)} concurrent calls: each 204 or a GlassFlow refusal", not odd and len(answers) > 50,
              str(odd[:5]))
        deadline = time.time() + 60
        final = None
        while time.time() < deadline:
            final = a.status("race-logs")
            if final in (None, "Running", "Stopped", "Failed"):
                break
            time.sleep(0.1)
        check("it settles", final in (None, "Running", "Stopped"), str(final))
        if final is None:
            a.call("POST", "/api/v1/pipeline", body=api_doc("race-logs"), want=204)
            a.wait("race-logs", "Running")
        elif final == "Stopped":
            a.call("POST", "/api/v1/pipeline/{id}/resume", "race-logs", want=204)
            a.wait("race-logs", "Running")
        check("and still serves", send_logs(s, "race-logs", "race-1") == 200 and
              wait_rows("SELECT count() FROM otel.otel_logs WHERE has(LogAttributes.value, 'race-1')", 5))
        check("the server is alive", s.proc.poll() is None)
    finally:
        s.stop()


# ------------------------------------------------------------------ dead letters

def test_dead_letters():
    print("REST API: dead letters listed a page at a time, consumed, reprocessed after the table is fixed")
    ch("DROP TABLE IF EXISTS otel.api_dlq")
    ch("CREATE TABLE otel.api_dlq (Timestamp DateTime, Body FixedString(8)) ENGINE = MergeTree ORDER BY Timestamp")
    doc = api_doc("dlq-logs", table="api_dlq")
    doc["sink"]["mapping"] = [{"name": "timestamp", "column_name": "Timestamp", "column_type": "DateTime"},
                              {"name": "body", "column_name": "Body", "column_type": "FixedString(8)"}]
    s = Sluice("api-dlq", []).start()
    a = Api(s)
    try:
        a.call("POST", "/api/v1/pipeline", body=doc, want=204)
        check("Running", a.wait("dlq-logs", "Running"))
        bodies = ["ok-1", "far-too-long-1", "ok-2", "far-too-long-2", "far-too-long-3"]
        req = logs_request("dlq", 0, "api-e2e")
        sl = req.resource_logs[0].scope_logs[0]
        for i, b in enumerate(bodies):
            r = sl.log_records.add()
            r.time_unix_nano = 1717171717000000000 + i
            r.body.string_value = b
        check("sent", s.post("/v1/logs", req.SerializeToString(), H("dlq-logs", "application/x-protobuf"))[0] == 200)
        check("the rows that fit land", wait_rows("SELECT count() FROM otel.api_dlq", 2))
        deadline = time.time() + 20
        state = {}
        while time.time() < deadline:
            st, state = a.call("GET", "/api/v1/pipeline/{id}/dlq/state", "dlq-logs")
            if state.get("unconsumed_messages") == 3:
                break
            time.sleep(0.2)
        check("three dead letters", state.get("total_messages") == 3 and state.get("unconsumed_messages") == 3 and
              state.get("last_received_at"), str(state))
        st, page = a.call("GET", "/api/v1/pipeline/{id}/dlq/list", "dlq-logs", query="batch_size=2", want=200)
        check("page 1: two, more to come", len(page["messages"]) == 2 and page["has_more"] and page["next_cursor"], str(page)[:300])
        st, page2 = a.call("GET", "/api/v1/pipeline/{id}/dlq/list", "dlq-logs",
                           query=f"batch_size=2&cursor={page['next_cursor']}", want=200)
        ids = [m["message_id"] for m in page["messages"] + page2["messages"]]
        check("page 2: the last one, no more", len(page2["messages"]) == 1 and not page2["has_more"] and
              len(set(ids)) == 3, str(page2)[:300])
        check("each names its record and reason", all(m["reason"] == "schema_mismatch" and "far-too-long" in
                                                       m["original_message"] for m in page["messages"]), str(page)[:300])
        st, none = a.call("GET", "/api/v1/pipeline/{id}/dlq/list", "dlq-logs", query="component=worker", want=200)
        check("a component filter", none["messages"] == [], str(none)[:200])
        st, one = a.call("GET", "/api/v1/pipeline/{id}/dlq/consume", "dlq-logs", query="batch_size=1", want=200)
        check("consume one: GlassFlow's fields", len(one) == 1 and set(one[0]) >= {"component", "error", "original_message"},
              str(one)[:300])
        st, state = a.call("GET", "/api/v1/pipeline/{id}/dlq/state", "dlq-logs")
        check("two unconsumed, consumption time set", state["unconsumed_messages"] == 2 and state["last_consumed_at"], str(state))
        a.call("POST", "/api/v1/pipeline/{id}/dlq/purge", "dlq-logs", want=204)
        st, state = a.call("GET", "/api/v1/pipeline/{id}/dlq/state", "dlq-logs")
        check("purged", state["unconsumed_messages"] == 0 and state["total_messages"] == 3, str(state))
        # Three more, then the table is fixed and they are sent again.
        req = logs_request("dlq", 0, "api-e2e")
        sl = req.resource_logs[0].scope_logs[0]
        second = ["ok-3", "long-one-b1", "ok-4", "long-one-b2", "long-one-b3"]
        for i, b in enumerate(second):
            r = sl.log_records.add()
            r.time_unix_nano = 1717171727000000000 + i
            r.body.string_value = b
        check("sent", s.post("/v1/logs", req.SerializeToString(), H("dlq-logs", "application/x-protobuf"))[0] == 200)
        check("the rows that fit land", wait_rows("SELECT count() FROM otel.api_dlq", 4))
        deadline = time.time() + 20
        page = {"messages": []}
        while time.time() < deadline:
            st, page = a.call("GET", "/api/v1/pipeline/{id}/dlq/list", "dlq-logs")
            if len(page["messages"]) == 3:
                break
            time.sleep(0.2)
        check("three new dead letters", len(page["messages"]) == 3, str(page)[:300])
        ch("ALTER TABLE otel.api_dlq MODIFY COLUMN Body String")
        a.call("POST", "/api/v1/pipeline/{id}/terminate", "dlq-logs", want=204)
        a.wait("dlq-logs", "Stopped")
        a.call("POST", "/api/v1/pipeline/{id}/resume", "dlq-logs", want=204)
        a.wait("dlq-logs", "Running")
        middle = page["messages"][1]
        st, r = a.call("POST", "/api/v1/pipeline/{id}/dlq/reprocess", "dlq-logs",
                       body={"mode": "selected", "message_ids": [middle["message_id"], 999999]}, want=202)
        check("selected: the one sent again, an unknown id named", r.get("reprocessed") == 1 and
              r.get("status") == "partial" and r.get("remaining") == 2 and
              [x["message_id"] for x in r["skipped"]] == [999999], str(r))
        check("it lands", wait_rows("SELECT count() FROM otel.api_dlq", 5))
        st, page = a.call("GET", "/api/v1/pipeline/{id}/dlq/list", "dlq-logs")
        left = sorted(json.loads(m["original_message"])["body"] for m in page["messages"])
        check("the others stay in the queue, in order", left == ["long-one-b1", "long-one-b3"], str(left))
        st, r = a.call("POST", "/api/v1/pipeline/{id}/dlq/reprocess", "dlq-logs", body={"mode": "all"}, want=202)
        check("all: the rest sent again", r.get("reprocessed") == 2 and r.get("status") == "accepted" and
              r.get("remaining") == 0, str(r))
        check("every row once", wait_rows("SELECT count() FROM otel.api_dlq", 7))
        got = sorted(ch("SELECT Body FROM otel.api_dlq FORMAT TabSeparated").split())
        check("exactly those rows", got == sorted(["ok-1", "ok-2"] + second), str(got))
        st, state = a.call("GET", "/api/v1/pipeline/{id}/dlq/state", "dlq-logs")
        check("the queue is empty", state["unconsumed_messages"] == 0, str(state))
    finally:
        s.stop()


# ------------------------------------------------------------------ the CLI and GlassFlow's SDK

def test_cli():
    print("sluice pipeline / sluice dlq: the API from the command line")
    s = Sluice("api-cli", [], config={"admin": {"token": "cli-t0ken"}}).start()
    a = Api(s, token="cli-t0ken")
    env = dict(os.environ, SLUICE_ADMIN_TOKEN="cli-t0ken")
    adm = ["--admin", f"127.0.0.1:{s.admin_port}"]

    def run(*args):
        p = subprocess.run([SLUICE, *args], capture_output=True, text=True, env=env)
        return p.returncode, p.stdout, p.stderr
    try:
        path = os.path.join(s.dir, "cli-logs.json")
        json.dump(api_doc("cli-logs"), open(path, "w"))
        rc, out, err = run("pipeline", "create", "-f", path, "--wait", "30", *adm)
        check("create --wait", rc == 0 and "cli-logs created" in out, out + err)
        rc, out, err = run("pipeline", "list", *adm)
        check("list: a table", rc == 0 and "PIPELINE" in out and "cli-logs" in out and "Running" in out, out + err)
        rc, out, err = run("pipeline", "list", "--json", *adm)
        check("list --json", rc == 0 and json.loads(out)[0]["pipeline_id"] == "cli-logs", out[:200] + err)
        rc, out, err = run("pipeline", "get", "cli-logs", *adm)
        check("get: the document", rc == 0 and json.loads(out)["pipeline_id"] == "cli-logs", out[:200] + err)
        rc, out, err = run("pipeline", "delete", "cli-logs", *adm)
        check("delete while running: exit 1 with GlassFlow's message",
              rc == 1 and "can only be deleted" in err, f"{rc} {err}")
        rc, out, err = run("pipeline", "stop", "cli-logs", "--wait", "30", *adm)
        check("stop --wait", rc == 0 and a.status("cli-logs") == "Stopped", out + err)
        rc, out, err = run("pipeline", "health", "cli-logs", *adm)
        check("health", rc == 0 and "Stopped" in out, out + err)
        rc, out, err = run("pipeline", "resume", "cli-logs", "--wait", "30", *adm)
        check("resume --wait", rc == 0 and a.status("cli-logs") == "Running", out + err)
        rc, out, err = run("pipeline", "terminate", "cli-logs", "--wait", "30", *adm)
        check("terminate --wait", rc == 0 and a.status("cli-logs") == "Stopped", out + err)
        yaml_path = os.path.join(s.dir, "cli-logs.yaml")
        doc = api_doc("cli-logs", max_batch_size=11)
        import yaml as _yaml  # Debian's python3-yaml
        _yaml.safe_dump(doc, open(yaml_path, "w"))
        rc, out, err = run("pipeline", "edit", "cli-logs", "-f", yaml_path, "--wait", "30", *adm)
        check("edit from YAML --wait", rc == 0 and a.status("cli-logs") == "Running", out + err)
        bad = dict(doc, pipeline_id="cli-other")
        bad["sink"] = dict(doc["sink"], table="")
        json.dump(bad, open(path, "w"))
        rc, out, err = run("pipeline", "create", "-f", path, *adm)
        check("an invalid document: exit 1, the field named", rc == 1 and "sink.table" in err, err)
        rc, out, err = run("dlq", "state", "cli-logs", *adm)
        check("dlq state", rc == 0 and "unconsumed_messages" in out, out + err)
        rc, out, err = run("dlq", "list", "cli-logs", "--batch-size", "5", *adm)
        check("dlq list", rc == 0 and "REASON" in out, out + err)
        rc, out, err = run("dlq", "reprocess", "cli-logs", *adm)
        check("dlq reprocess", rc == 0 and "0 dead letter(s)" in out, out + err)
        rc, out, err = run("dlq", "purge", "cli-logs", *adm)
        check("dlq purge", rc == 0, out + err)
        rc, out, err = run("dlq", "consume", "cli-logs", "--batch-size", "3", *adm)
        check("dlq consume of an empty queue", rc == 0 and out == "", out + err)
        p = subprocess.run([SLUICE, "pipeline", "list", *adm], capture_output=True, text=True,
                           env={k: v for k, v in env.items() if k != "SLUICE_ADMIN_TOKEN"})
        check("without the token: refused", p.returncode == 1 and "401" in (p.stderr + p.stdout) or
              "credentials" in p.stderr, p.stderr)
        rc, out, err = run("pipeline", "stop", "cli-logs", "--wait", "30", *adm)
        rc, out, err = run("pipeline", "delete", "cli-logs", *adm)
        check("delete", rc == 0 and "deleted" in out, out + err)
    finally:
        s.stop()


def test_glassflow_sdk():
    print("GlassFlow's Python SDK against Sluice: create, list, get, health, DLQ state, stop, resume, delete")
    s = Sluice("api-sdk", []).start()
    try:
        home = os.path.join(s.dir, "home")  # the SDK writes ~/.glassflow
        os.makedirs(home, exist_ok=True)
        p = subprocess.run([PY_GF, os.path.join(ROOT, "tests", "clients", "gf_sdk.py"),
                            "--host", f"http://127.0.0.1:{s.admin_port}", "--pipeline", "sdk-logs",
                            "--ch-port", str(CH_TCP), "--database", "otel", "--table", "otel_logs"],
                           capture_output=True, text=True, timeout=300, env=dict(os.environ, HOME=home))
        steps = {}
        for line in p.stdout.splitlines():
            try:
                d = json.loads(line)
                steps[d["step"]] = d
            except ValueError:
                pass
        check("the SDK ran every step", p.returncode == 0, (p.stdout + p.stderr)[-800:])
        check("listed", "sdk-logs" in steps.get("listed", {}).get("ids", []), str(steps.get("listed")))
        got = steps.get("got", {})
        check("got it back as an OTLP pipeline", got.get("pipeline_id") == "sdk-logs" and
              got.get("source_type") == "otlp.logs" and got.get("mapping") == 2, str(got))
        check("health Running", steps.get("health", {}).get("status") == "Running", str(steps.get("health")))
        check("DLQ state", steps.get("dlq_state", {}).get("state", {}).get("total_messages") == 0, str(steps.get("dlq_state")))
        check("stop -> Stopped", steps.get("stopped", {}).get("status") == "Stopped", str(steps.get("stopped")))
        check("resume -> Running", steps.get("resumed", {}).get("status") == "Running", str(steps.get("resumed")))
        check("terminate -> Stopped", steps.get("terminated", {}).get("status") == "Stopped", str(steps.get("terminated")))
        check("deleted: the SDK's not-found", steps.get("gone", {}).get("found") is False and
              steps["gone"].get("error") == "PipelineNotFoundError", str(steps.get("gone")))
    finally:
        s.stop()


def run_all():
    harness.run_tests(test_contract, test_lifecycle_under_load, test_lifecycle_chaos, test_persistence,
                      test_concurrency,
                      test_dead_letters, test_cli, test_glassflow_sdk)
