"""Reaching ClickHouse (issue 11, in progress): INSERT bodies in ClickHouse's compressed
frames (LZ4, ZSTD) over HTTP with `decompress=1`, against the real 18.16 server, compared
row by row with the same rows sent uncompressed. Run by e2e.py (group "reach").
"""
import json

from harness import Sluice, ch, check, logs_pipeline, wait_rows, H


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


def run_all():
    for t in (test_compressed_inserts,):
        try:
            t()
        except Exception as e:  # a crash is a failure, reported with the rest
            import traceback
            traceback.print_exc()
            check(f"{t.__name__} completed", False, repr(e))
