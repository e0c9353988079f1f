"""Drives Sluice's REST API with GlassFlow's own Python SDK (PyPI glassflow, pinned in
glassflow-requirements.txt; runs with the interpreter of $ROOT/.deps/glassflow), the way a
GlassFlow user's script does: create an OTLP logs pipeline, list, get, health, DLQ state,
stop, wait for Stopped, resume, stop again, delete.

usage: gf_sdk.py --host http://127.0.0.1:PORT --pipeline ID --ch-port P (native) --database D --table T
Prints one JSON object per step ({"step": ..., ...}); exits 0 when every call succeeded.
"""
import argparse
import json
import os
import sys
import time

# Before the import: the SDK sends usage events to Mixpanel unless told not to.
os.environ["GF_USAGESTATS_ENABLED"] = "false"

from glassflow.etl import Client  # noqa: E402


def say(step, **kw):
    print(json.dumps({"step": step, **kw}, default=str), flush=True)


def wait_status(pipeline, want, timeout=60):
    deadline = time.time() + timeout
    status = None
    while time.time() < deadline:
        status = pipeline.health()["overall_status"]
        if status == want:
            return status
        time.sleep(0.2)
    return status


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--pipeline", required=True)
    ap.add_argument("--ch-port", required=True)
    ap.add_argument("--database", required=True)
    ap.add_argument("--table", required=True)
    a = ap.parse_args()
    config = {
        "version": "v3",
        "pipeline_id": a.pipeline,
        "name": "Logs from the GlassFlow SDK",
        "sources": [{"type": "otlp.logs", "source_id": "logs"}],
        "sink": {
            "type": "clickhouse",
            "source_id": "logs",
            "connection_params": {"host": "127.0.0.1", "port": a.ch_port,
                                  "database": a.database, "username": "default", "password": ""},
            "table": a.table,
            "max_batch_size": 1000,
            "max_delay_time": "200ms",
            # The SDK's column types: a bare DateTime64 (it refuses DateTime64(9)).
            "mapping": [{"name": "timestamp", "column_name": "Timestamp", "column_type": "DateTime64"},
                        {"name": "body", "column_name": "Body", "column_type": "String"}],
        },
        "metadata": {"tags": ["sdk"]},
    }
    client = Client(host=a.host)
    client.disable_usagestats()
    client.create_pipeline(config)
    say("created")
    listed = client.list_pipelines()
    say("listed", ids=[p.get("pipeline_id") for p in listed])
    p = client.get_pipeline(a.pipeline)
    say("got", pipeline_id=p.config.pipeline_id, source_type=p.config.sources[0].type,
        mapping=len(p.config.sink.mapping), status=str(p.status))
    say("health", status=p.health()["overall_status"])
    say("dlq_state", state=p.dlq.state())
    p.stop()
    say("stopped", status=wait_status(p, "Stopped"))
    p.resume()
    say("resumed", status=wait_status(p, "Running"))
    p.stop(terminate=True)
    say("terminated", status=wait_status(p, "Stopped"))
    p.delete()
    say("deleted")
    try:
        client.get_pipeline(a.pipeline)
        say("gone", found=True)
    except Exception as e:  # the SDK's PipelineNotFoundError
        say("gone", found=False, error=type(e).__name__)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:
        say("error", error=f"{type(e).__name__}: {e}")
        sys.exit(1)
