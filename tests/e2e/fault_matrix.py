"""The standing fault matrix: every way of stopping the server (kill -9, SIGTERM, none)
against every adverse condition (a full disk, ClickHouse down, slow clients holding request
memory, adversarial inputs mixed into the load), each episode under load, counting what
was acknowledged against what landed. The promise checked every time: every acknowledged
record is in ClickHouse (at least once), nothing a client was refused is, and the server
always comes back to serving without a hand.
"""
import json
import os
import random
import signal
import socket
import struct
import subprocess
import threading
import time

import harness
from harness import ROOT, Sluice, ch, check, logs_pipeline, pb_len, H

MOUNT_BYTES = 64 << 20


def records_json(ids, extra=None):
    recs = [{"timeUnixNano": "1717171717000000000", "body": {"stringValue": i},
             "attributes": extra or []} for i in ids]
    return json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": recs}]}]}).encode()


def adversarial(run, i):
    """(body, content type, ids it carries if accepted, whether it must be accepted)."""
    kind = i % 6
    ids = [f"{run}-{i}"]
    if kind == 0:  # deep nesting (4,000 arrays), accepted
        any_ = pb_len(1, ids[0].encode())
        for _ in range(4000):
            any_ = pb_len(5, pb_len(1, any_))
        rec = b"\x09" + struct.pack("<Q", 1717171717000000000) + pb_len(5, pb_len(1, ids[0].encode()))
        rec += pb_len(6, pb_len(1, b"deep") + pb_len(2, any_))
        return pb_len(1, pb_len(2, pb_len(2, rec))), "application/x-protobuf", ids, True
    if kind == 1:  # 20,000 attributes on one record
        rec = b"\x09" + struct.pack("<Q", 1717171717000000000) + pb_len(5, pb_len(1, ids[0].encode()))
        rec += b"".join(pb_len(6, pb_len(1, b"k%05d" % k) + pb_len(2, pb_len(1, b"v"))) for k in range(20000))
        return pb_len(1, pb_len(2, pb_len(2, rec))), "application/x-protobuf", ids, True
    if kind == 2:  # invalid UTF-8 in a kvlist and a lone surrogate in JSON
        body = records_json(ids, [{"key": "bad\\ud800", "value": {"kvlistValue": {"values": [
            {"key": "x", "value": {"stringValue": "\\udfff"}}]}}}])
        return body.replace(b"\\\\ud800", b"\\ud800").replace(b"\\\\udfff", b"\\udfff"), "application/json", ids, True
    if kind == 3:  # malformed protobuf: refused
        return b"\x0a\xff\xff\xff\x0f", "application/x-protobuf", ids, False
    if kind == 4:  # over the request limit: refused
        return records_json(ids, [{"key": "pad", "value": {"stringValue": "x" * (2 << 20)}}]), \
            "application/json", ids, False
    return b"{not json", "application/json", ids, False  # refused


class Load:
    """Senders posting unique records (and adversarial requests) until stopped; they keep
    going through restarts (refused connections are retried like an exporter would)."""

    def __init__(self, s, run, hostile):
        self.s, self.run, self.hostile = s, run, hostile
        self.acked, self.refused, self.statuses = set(), set(), {}
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.send, args=(k,)) for k in range(3)]

    def send(self, k):
        i = k
        while not self.stop.is_set():
            if self.hostile and i % 4 == 3:  # every kind in turn
                body, ctype, ids, must = adversarial(self.run + "a", i // 4)
            else:
                ids = [f"{self.run}-{i}-{j}" for j in range(20)]
                body, ctype, must = records_json(ids), "application/json", True
            try:
                st = self.s.post("/v1/logs", body, H("mx-logs", ctype))[0]
            except OSError:
                st = "down"
                time.sleep(0.05)
            with self.lock:
                self.statuses[st] = self.statuses.get(st, 0) + 1
                if st == 200:
                    self.acked.update(ids)
                elif st in (400, 413):
                    self.refused.update(ids)
                    if must:
                        self.statuses["refused-valid"] = self.statuses.get("refused-valid", 0) + 1
            i += 3

    def start(self):
        for t in self.threads:
            t.start()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join()


def slow_clients(s, stop):
    """Connections that declare large bodies and trickle them in, holding request memory."""
    conns = []
    while not stop.is_set():
        try:
            c = socket.create_connection(("127.0.0.1", s.http_port), timeout=2)
            c.sendall(b"POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"x-glassflow-pipeline-id: mx-logs\r\nContent-Length: %d\r\n\r\n{" % (4 << 20))
            conns.append(c)
        except OSError:
            pass
        for c in conns[-8:]:
            try:
                c.send(b" ")
            except OSError:
                pass
        conns = conns[-8:]
        time.sleep(0.2)
    for c in conns:
        c.close()


def episode(n, stop_how, condition, data_mount):
    run = f"mx{n:02d}"
    ch_dir = os.path.join(harness.DATA, "clickhouse")
    subprocess.run(["find", data_mount, "-mindepth", "1", "-delete"])
    s = Sluice("matrix", [logs_pipeline("mx-logs")],
               {"data_dir": data_mount, "limits": {"shutdown_timeout": "4s", "max_request_bytes": 1 << 20,
                                                   "request_memory": 8 << 20}})
    s.data_dir = data_mount
    s.start("mx-logs")
    load = Load(s, run, hostile=condition == "adversarial")
    slow_stop = threading.Event()
    slow = threading.Thread(target=slow_clients, args=(s, slow_stop)) if condition == "slow clients" else None
    filler = os.path.join(data_mount, "filler")
    stop_ok, exit_note = True, ""
    try:
        load.start()
        if slow:
            slow.start()
        time.sleep(1)
        if condition == "disk full":
            st = os.statvfs(data_mount)
            free = st.f_bavail * st.f_frsize
            with open(filler, "wb") as f:
                f.write(b"\0" * max(0, free - (1 << 20)))
        elif condition == "ClickHouse down":
            subprocess.run([os.path.join(ROOT, "scripts", "clickhouse"), "stop", ch_dir], check=True)
        time.sleep(random.uniform(1.0, 3.0))
        if stop_how == "kill -9":
            s.kill9()
            s.start()
        elif stop_how == "SIGTERM":
            rc, took = s.stop(signal.SIGTERM, timeout=30)
            stop_ok = rc == 0 and took < 4.5  # gracefully, within shutdown_timeout
            exit_note = f"exit {rc} in {took:.1f} s"
            s.start()
        time.sleep(2)
    finally:
        load.finish()
        slow_stop.set()
        if slow:
            slow.join()
        if os.path.exists(filler):
            os.remove(filler)
        if condition == "ClickHouse down":
            subprocess.run([os.path.join(ROOT, "scripts", "clickhouse"), "start", ch_dir, *harness.CH_PORTS],
                           check=True)
    try:
        landed, deadline = set(), time.time() + 120
        while time.time() < deadline:
            landed = set(ch(f"SELECT DISTINCT Body FROM otel.otel_logs WHERE startsWith(Body, '{run}')").split())
            if load.acked <= landed:
                break
            time.sleep(1)
        missing = load.acked - landed
        wrongly = load.refused & landed
        serving = s.post("/v1/logs", records_json([f"{run}-last"]), H("mx-logs"))[0]
        name = f"{stop_how} x {condition}"
        check(f"{name}: every acknowledged record landed ({len(load.acked)})", not missing and load.acked,
              f"{len(missing)} missing of {len(load.acked)}, e.g. {sorted(missing)[:3]}; {load.statuses}")
        check(f"{name}: nothing refused landed, nothing valid was refused",
              not wrongly and "refused-valid" not in load.statuses, f"{sorted(wrongly)[:3]} {load.statuses}")
        check(f"{name}: the server serves again by itself", serving == 200, str(serving))
        if stop_how == "SIGTERM":
            check(f"{name}: SIGTERM stopped it within shutdown_timeout ({exit_note})", stop_ok)
        print(f"       {name}: {load.statuses}; {len(landed)} distinct records landed")
    finally:
        s.stop()


def run_all():
    print("fault matrix: {kill -9, SIGTERM, none} x {full disk, ClickHouse down, slow clients, adversarial input}")
    mount = os.path.join(harness.DATA, "matrix-data")
    os.makedirs(mount, exist_ok=True)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={MOUNT_BYTES}", "tmpfs", mount]).returncode != 0:
        check("a tmpfs can be mounted for the fault matrix (needs root)", False)
        return
    try:
        n = 0
        for stop_how in ("kill -9", "SIGTERM", "none"):
            for condition in ("disk full", "ClickHouse down", "slow clients", "adversarial"):
                try:
                    episode(n, stop_how, condition, mount)
                except Exception as e:  # reported as a failure, the matrix goes on
                    import traceback
                    traceback.print_exc()
                    check(f"{stop_how} x {condition} completed", False, repr(e))
                n += 1
    finally:
        subprocess.run(["umount", "-l", mount])
