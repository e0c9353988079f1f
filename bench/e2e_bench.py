"""End-to-end benchmark of Sluice (run by `make bench`).

Starts ClickHouse (ports 28123/29000) and `sluice serve` (24318/24317, fsync always),
drives them with `sluice-loadgen` (OTLP logs of about 330 bytes with 8 attributes) through
several scenarios, and reports per scenario: acknowledged records/s, records landed in
ClickHouse (every acknowledged id checked), Sluice's CPU-seconds per million records from
/proc (split between receivers and the pipeline's worker/inserters by thread name), peak
RSS, and acknowledgement latency percentiles. Then ClickHouse's own insert of the same rows
(clickhouse-client, Native format) gives the ceiling. Prints a table and writes JSON to
.data/bench/results.json.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, ".data", "bench")
BIN = os.path.join(ROOT, "build", "release")
# The sluice binary to measure (an older build for A/B runs); the load generator is this tree's.
SLUICE_BIN = os.environ.get("BENCH_SLUICE", os.path.join(BIN, "sluice"))
ADMIN_PORT = 24081
# BENCH_SCRAPE=S: scrape the admin listener's /metrics every S seconds during the load.
SCRAPE = float(os.environ.get("BENCH_SCRAPE", "0"))
CH_HTTP, CH_TCP, HTTP_PORT, GRPC_PORT = 28123, 29000, 24318, 24317
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
TICK = os.sysconf("SC_CLK_TCK")
# Scenarios to profile with perf: BENCH_PROFILE=grpc-1000,http-100 (reports in .data/bench/)
PROFILE = [p for p in os.environ.get("BENCH_PROFILE", "").split(",") if p]
ONLY = [p for p in os.environ.get("BENCH_ONLY", "").split(",") if p]  # run only these scenarios
BODY = ["--body_min=20", "--body_max=80"]  # ~330-byte records

# name, loadgen arguments, what it measures. "buffer-" scenarios measure receiver to durable
# buffer alone: ClickHouse is paused (SIGSTOP) while the load runs, so neither it nor the
# pipeline's inserts compete for the cores; the backlog drains into it afterwards.
SCENARIOS = [
    ("buffer-grpc-1000", ["--protocol=grpc", "--records=1000", "--connections=4"],
     "receiver to buffer: OTLP/gRPC, no compression, 1000-record requests, closed loop"),
    ("buffer-grpc-1000-gzip", ["--protocol=grpc", "--records=1000", "--connections=4", "--compression=gzip"],
     "receiver to buffer: OTLP/gRPC, gzip, 1000-record requests, closed loop"),
    ("buffer-grpc-100k-rate", ["--protocol=grpc", "--records=100", "--connections=4", "--rate=100000"],
     "receiver to buffer: OTLP/gRPC, 100-record requests at a fixed 100k records/s"),
    ("http-100", ["--protocol=http", "--records=100", "--connections=8"],
     "OTLP/HTTP protobuf, 100-record requests, closed loop"),
    ("http-1000", ["--protocol=http", "--records=1000", "--connections=8"],
     "OTLP/HTTP protobuf, 1000-record requests, closed loop"),
    ("grpc-1000", ["--protocol=grpc", "--records=1000", "--connections=4"],
     "OTLP/gRPC, no compression, 1000-record requests, closed loop"),
    ("grpc-1000-own-core", ["--protocol=grpc", "--records=1000", "--connections=4"],
     "the same with Sluice on a core of its own (CPU 1) and the load generator and ClickHouse on "
     "the other, as when ClickHouse runs elsewhere: CPU per record without the other processes "
     "evicting Sluice's caches"),
    ("grpc-1000-gzip", ["--protocol=grpc", "--records=1000", "--connections=4", "--compression=gzip"],
     "OTLP/gRPC, gzip, 1000-record requests, closed loop"),
    ("grpc-1000-250k-rate", ["--protocol=grpc", "--records=1000", "--connections=4", "--rate=250000"],
     "OTLP/gRPC, 1000-record requests at a fixed 250k records/s (below saturation: CPU per record)"),
    ("grpc-100k-rate", ["--protocol=grpc", "--records=100", "--connections=4", "--rate=100000"],
     "OTLP/gRPC, 100-record requests at a fixed 100k records/s"),
    ("grpc-100k-rate-1000", ["--protocol=grpc", "--records=1000", "--connections=4", "--rate=100000"],
     "OTLP/gRPC, 1000-record requests at a fixed 100k records/s"),
    # The sink's protocols, one after another in the same run, with the same load as grpc-1000
    # (which inserts over HTTP RowBinary, as sink-http-rowbinary does again here).
    ("sink-http-rowbinary", ["--protocol=grpc", "--records=1000", "--connections=4"],
     "grpc-1000 into a pipeline inserting over HTTP, RowBinary bodies, uncompressed"),
    ("sink-native-lz4", ["--protocol=grpc", "--records=1000", "--connections=4"],
     "grpc-1000 into a pipeline inserting over the native TCP protocol, Native blocks in LZ4"),
    ("sink-native-none", ["--protocol=grpc", "--records=1000", "--connections=4"],
     "grpc-1000 into a pipeline inserting over the native TCP protocol, uncompressed blocks"),
    # What TLS costs the receivers: the same loads as http-1000, grpc-1000 and
    # grpc-1000-250k-rate (measured in the same run), to a second Sluice whose receivers
    # speak TLS only (ECDSA P-256 certificate, TLS 1.3, the loadgen trusting its CA).
    ("tls-http-1000", ["--protocol=http", "--records=1000", "--connections=8"],
     "http-1000 over TLS"),
    ("tls-grpc-1000", ["--protocol=grpc", "--records=1000", "--connections=4"],
     "grpc-1000 over TLS (decrypted by Sluice's gRPC front, carried to gRPC over a socket pair)"),
    ("tls-grpc-1000-250k-rate", ["--protocol=grpc", "--records=1000", "--connections=4", "--rate=250000"],
     "grpc-1000-250k-rate over TLS"),
    # What the transforms cost, with grpc-1000-250k-rate's load (every record passes, so every
    # acknowledged id is still checked in ClickHouse).
    ("transform-filter", ["--protocol=grpc", "--records=1000", "--connections=4", "--rate=250000"],
     "grpc-1000-250k-rate through a filter (severity and a resource attribute)"),
    ("transform-dedup", ["--protocol=grpc", "--records=1000", "--connections=4", "--rate=250000"],
     "grpc-1000-250k-rate through dedup on attributes.loadgen.id (a look-up and a commit per record)"),
    ("transform-stateless", ["--protocol=grpc", "--records=1000", "--connections=4", "--rate=250000"],
     "grpc-1000-250k-rate through the ClickStack logs example's stateless transform (18 outputs)"),
]
TLS_HTTP_PORT, TLS_GRPC_PORT, TLS_ADMIN_PORT = 24428, 24427, 24092
# The pipeline each scenario sends to (default: bench-logs, HTTP RowBinary).
PIPELINE_OF = {"sink-native-lz4": "bench-logs-native", "sink-native-none": "bench-logs-native-none",
               "transform-filter": "bench-logs-filter", "transform-dedup": "bench-logs-dedup",
               "transform-stateless": "bench-logs-stateless"}


def ch(sql, data=None):
    url = f"http://127.0.0.1:{CH_HTTP}/?" + urllib.parse.urlencode({"query": sql})
    try:
        with urllib.request.urlopen(url, data=data, timeout=300) as r:
            return r.read().decode()
    except urllib.error.HTTPError as e:
        raise RuntimeError(f"ClickHouse: {sql}: {e.read().decode()[:500]}") from None


def wait_ready(port):
    """Waits (10 s at most) for a plain HTTP port of Sluice's to answer /readyz."""
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2)
            return
        except OSError:
            time.sleep(0.1)


def sent_bytes(pipeline, admin_port=ADMIN_PORT):
    """The pipeline's sluice_clickhouse_sent_bytes_total, from the admin listener."""
    page = urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/metrics", timeout=10).read().decode()
    for line in page.splitlines():
        if line.startswith(f'sluice_clickhouse_sent_bytes_total{{pipeline_id="{pipeline}"}}'):
            return float(line.split()[-1])
    return 0.0


def pin(pid, cpus):
    """Sets the CPU affinity of every thread of a process (threads started later inherit it)."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            os.sched_setaffinity(int(tid), cpus)
        except OSError:
            pass


def threads_cpu(pid):
    """CPU seconds per thread role: receivers (everything but the pipeline's threads),
    worker, inserters, syncer."""
    roles = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        cpu = (int(fields[11]) + int(fields[12])) / TICK
        role = {"sluice-worker": "worker", "sluice-insert": "insert", "sluice-sync": "sync"}.get(comm, "receive")
        roles[(tid, role)] = cpu
    return roles


def cpu_delta(before, after):
    out = {"receive": 0.0, "worker": 0.0, "insert": 0.0, "sync": 0.0}
    for key, v in after.items():
        out[key[1]] += v - before.get(key, 0.0)
    return out


def peak_rss_mib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return -1


def landed(run_hex):
    return int(ch("SELECT uniqExact(LogAttributes.value[indexOf(LogAttributes.key, 'loadgen.id')]) "
                  f"FROM otel.otel_logs WHERE startsWith(LogAttributes.value[indexOf(LogAttributes.key, "
                  f"'loadgen.id')], '{run_hex}-')").strip())


CEILING_OF = "grpc-1000"  # ClickHouse's own insert of this scenario's rows is the ceiling


def client_insert(fmt):
    """Rows/s of clickhouse-client inserting the current rows of otel.otel_logs, exported in
    `fmt`, into an empty copy of the table."""
    path = os.path.join(DATA, "rows." + fmt.lower())
    with open(path, "wb") as f:
        subprocess.run(["clickhouse-client", f"--port={CH_TCP}", "--query",
                        f"SELECT * FROM otel.otel_logs FORMAT {fmt}"], stdout=f, check=True)
    rows = int(ch("SELECT count() FROM otel.otel_logs").strip())
    ch("DROP TABLE IF EXISTS otel.ceiling", data=b"")
    ch("CREATE TABLE otel.ceiling AS otel.otel_logs", data=b"")
    t0 = time.time()
    with open(path, "rb") as f:
        subprocess.run(["clickhouse-client", f"--port={CH_TCP}", "--query",
                        f"INSERT INTO otel.ceiling FORMAT {fmt}"], stdin=f, check=True)
    seconds = time.time() - t0
    ch("DROP TABLE otel.ceiling", data=b"")
    os.unlink(path)
    return rows, seconds


def native_ceiling(name, sluice_rows_per_s):
    """ClickHouse inserting the rows Sluice just landed, itself, through clickhouse-client:
    in its Native format (the ceiling) and in RowBinary (what Sluice sends)."""
    rows, native_s = client_insert("Native")
    _, rowbinary_s = client_insert("RowBinary")
    return {"scenario": name, "rows": rows, "seconds": round(native_s, 2),
            "rows_per_s": round(rows / native_s), "rowbinary_rows_per_s": round(rows / rowbinary_s),
            "sluice_landed_rows_per_s": sluice_rows_per_s}


def main():
    shutil.rmtree(DATA, ignore_errors=True)
    os.makedirs(os.path.join(DATA, "pipelines"))
    chs = os.path.join(ROOT, "scripts", "clickhouse")
    subprocess.run([chs, "start", os.path.join(DATA, "clickhouse"), str(CH_HTTP), str(CH_TCP)], check=True)
    subprocess.run([os.path.join(ROOT, "scripts", "create-tables"), f"http://127.0.0.1:{CH_HTTP}"],
                   check=True, stdout=subprocess.DEVNULL)
    doc = json.load(open(os.path.join(ROOT, "examples", "pipelines", "otel-logs.json")))
    doc["pipeline_id"] = "bench-logs"
    doc["sink"]["connection_params"]["http_port"] = str(CH_HTTP)
    doc["sink"]["max_batch_size"] = int(os.environ.get("BENCH_BATCH", "10000"))
    # BENCH_COMPRESSION=lz4|zstd: INSERT bodies in ClickHouse's compressed frames.
    if os.environ.get("BENCH_COMPRESSION"):
        doc["sink"]["connection_params"]["compression"] = os.environ["BENCH_COMPRESSION"]
    json.dump(doc, open(os.path.join(DATA, "pipelines", "bench-logs.json"), "w"))
    for pid, compression in (("bench-logs-native", "lz4"), ("bench-logs-native-none", "none")):
        native = json.loads(json.dumps(doc))
        native["pipeline_id"] = pid
        cp = native["sink"]["connection_params"]
        cp.pop("http_port")
        cp.update({"port": str(CH_TCP), "compression": compression})
        json.dump(native, open(os.path.join(DATA, "pipelines", f"{pid}.json"), "w"))
    transforms = {
        "bench-logs-filter": [{"type": "filter", "source_id": "logs", "config": {
            "expression": "severity_number >= 9 and resource_attributes['deployment.environment'] == 'production'"}}],
        "bench-logs-dedup": [{"type": "dedup", "source_id": "logs", "config": {
            "key": "attributes.loadgen.id", "time_window": "1h"}}],
        "bench-logs-stateless": json.load(open(os.path.join(ROOT, "examples", "transforms", "clickstack-logs.json")))["transforms"],
    }
    for pid, tr in transforms.items():
        t = json.loads(json.dumps(doc))
        t["pipeline_id"] = pid
        t["transforms"] = tr
        if pid == "bench-logs-stateless":
            t["sink"]["mapping"] = json.load(open(os.path.join(ROOT, "examples", "transforms", "clickstack-logs.json")))["sink"]["mapping"]
        json.dump(t, open(os.path.join(DATA, "pipelines", f"{pid}.json"), "w"))
    env = dict(os.environ, SLUICE_PIPELINES_DIR=os.path.join(DATA, "pipelines"), SLUICE_DATA_DIR=DATA,
               SLUICE_HTTP_PORT=str(HTTP_PORT), SLUICE_GRPC_PORT=str(GRPC_PORT),
               SLUICE_HTTP_ADDRESS="127.0.0.1", SLUICE_GRPC_ADDRESS="127.0.0.1", SLUICE_LOG_LEVEL="warn",
               SLUICE_ADMIN_PORT=str(ADMIN_PORT),
               SLUICE_QUEUE_BYTES=str(8 << 30), SLUICE_FSYNC=os.environ.get("BENCH_FSYNC", "always"))
    ch_pid = int(open(os.path.join(DATA, "clickhouse", "pid")).read())
    sluice = subprocess.Popen([SLUICE_BIN, "serve"], env=env)
    # The TLS scenarios' Sluice: the same pipelines, its own ports and data directory.
    sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
    import certs  # noqa: E402 (the e2e tests' PKI, made with the openssl command line)
    pki = certs.make(os.path.join(DATA, "pki"))
    tls = {"cert_file": pki["server_cert"], "key_file": pki["server_key"], "min_version": "1.3"}
    tls_config = os.path.join(DATA, "tls-config.json")
    json.dump({"http": {"address": "127.0.0.1", "port": TLS_HTTP_PORT, "tls": tls},
               "grpc": {"address": "127.0.0.1", "port": TLS_GRPC_PORT, "tls": tls},
               "admin": {"port": TLS_ADMIN_PORT}, "data_dir": os.path.join(DATA, "tls-data")},
              open(tls_config, "w"))
    tls_sluice = None
    if any(name.startswith("tls-") and (not ONLY or name in ONLY) for name, _, _ in SCENARIOS):
        # Its ports and directory from the file (the environment would override them).
        tls_env = {k: v for k, v in env.items()
                   if k not in ("SLUICE_HTTP_PORT", "SLUICE_GRPC_PORT", "SLUICE_ADMIN_PORT", "SLUICE_DATA_DIR")}
        tls_sluice = subprocess.Popen([SLUICE_BIN, "serve", "--config", tls_config], env=tls_env)
    results = []
    ceiling = None
    try:
        wait_ready(HTTP_PORT)
        time.sleep(1)  # the pipeline reads its table schema
        for run, (name, args, what) in enumerate(SCENARIOS, start=1):
            if ONLY and name not in ONLY:
                continue
            # Each scenario starts from an empty table, so background merges of earlier
            # scenarios' rows do not weigh on this one.
            ch("TRUNCATE TABLE otel.otel_logs", data=b"")
            secure = name.startswith("tls-")
            proc = tls_sluice if secure else sluice
            out = os.path.join(DATA, f"{name}.json")
            pipeline = PIPELINE_OF.get(name, "bench-logs")
            admin_port = TLS_ADMIN_PORT if secure else ADMIN_PORT
            if secure:  # the TLS Sluice is ready (its pipeline read its table)
                wait_ready(admin_port)
            sent_before = sent_bytes(pipeline, admin_port)
            before = threads_cpu(proc.pid)
            t0 = time.time()
            perf = None
            if name in PROFILE:  # perf (linux-perf) samples Sluice during this scenario
                perf = subprocess.Popen(["perf", "record", "-F", "999", "-g", "-p", str(sluice.pid), "-o",
                                         os.path.join(DATA, f"perf-{name}.data")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            paused = name.startswith("buffer-")
            if paused:
                os.kill(ch_pid, signal.SIGSTOP)
            own_core = name.endswith("-own-core") and os.cpu_count() >= 2
            if own_core:
                pin(sluice.pid, {1})
                pin(ch_pid, {0})
            scraping, scrapes = threading.Event(), [0]
            if SCRAPE > 0:  # a Prometheus scraping the admin listener meanwhile
                def scrape():
                    while not scraping.wait(SCRAPE):
                        try:
                            urllib.request.urlopen(f"http://127.0.0.1:{ADMIN_PORT}/metrics", timeout=5).read()
                            scrapes[0] += 1
                        except OSError:
                            pass
                threading.Thread(target=scrape, daemon=True).start()
            ports = ([f"--grpc_port={TLS_GRPC_PORT}", f"--http_port={TLS_HTTP_PORT}", f"--tls_ca={pki['ca']}"]
                     if secure else [f"--grpc_port={GRPC_PORT}", f"--http_port={HTTP_PORT}"])
            subprocess.run((["taskset", "-c", "0"] if own_core else []) + [os.path.join(BIN, "sluice-loadgen")] + ports + [
                            f"--pipeline={pipeline}", f"--run={run}",
                            f"--duration={SECONDS / 2 if paused else SECONDS}", f"--json={out}"] + BODY + args,
                           check=True, stdout=subprocess.DEVNULL)
            sent_cpu = cpu_delta(before, threads_cpu(proc.pid))
            scraping.set()
            if paused:
                os.kill(ch_pid, signal.SIGCONT)
            if perf:
                perf.send_signal(signal.SIGINT)
                perf.wait()
                with open(os.path.join(DATA, f"perf-{name}.txt"), "w") as f:
                    subprocess.run(["perf", "report", "-i", os.path.join(DATA, f"perf-{name}.data"),
                                    "--no-children", "--sort", "comm,symbol", "--percent-limit", "0.7",
                                    "--stdio", "-g", "none"], stdout=f, stderr=subprocess.DEVNULL)
            send_s = time.time() - t0
            lg = json.load(open(out))
            want = lg["records_acked"]
            at_load_end = landed(lg["run_hex"])
            load_end = time.time()
            got = 0
            while time.time() - t0 < SECONDS + 300:
                got = landed(lg["run_hex"])
                if got >= want:
                    break
                time.sleep(0.25)
            drained_s = time.time() - t0
            cpu = cpu_delta(before, threads_cpu(proc.pid))
            if own_core:
                everywhere = set(range(os.cpu_count()))
                pin(sluice.pid, everywhere)
                pin(ch_pid, everywhere)
            total_cpu = sum(cpu.values())
            results.append({
                "scenario": name, "what": what, "acked_records_per_s": lg["acked_records_per_s"],
                "records_acked": want, "records_landed": got, "landed_records_per_s": round(got / drained_s),
                # the sink alone, once the load stopped (the backlog in the buffer drains)
                "drain_records_per_s": round((got - at_load_end) / max(time.time() - load_end, 1e-3))
                if got - at_load_end > 100000 else None,
                "non_200": {k: v for k, v in lg["status"].items() if k not in ("http 200", "grpc OK")},
                "cpu_s_per_million": round(total_cpu / max(got, 1) * 1e6, 3),
                "metrics_scrapes": scrapes[0],
                "receiver_cpu_s_per_million": round(sent_cpu["receive"] / max(want, 1) * 1e6, 3),
                "receiver_cores": round(sent_cpu["receive"] / send_s, 2),
                "cpu_by_role_s": {k: round(v, 2) for k, v in cpu.items()},
                "peak_rss_mib": round(peak_rss_mib(proc.pid), 1),
                "latency_ms": lg["latency_ms"], "request_bytes": lg["request_bytes"],
                # INSERT data on the wire per row (compressed, retries included)
                "wire_bytes_per_row": round((sent_bytes(pipeline, admin_port) - sent_before) / max(got, 1), 1)})
            if name == CEILING_OF:
                ceiling = native_ceiling(name, results[-1]["landed_records_per_s"])
    finally:
        for p in (sluice, tls_sluice):
            if p:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=60)
        subprocess.run([chs, "stop", os.path.join(DATA, "clickhouse")])
    print(f"\nSluice end to end: fsync=always, {SECONDS:.0f} s per scenario, loadgen, Sluice and "
          f"ClickHouse on the same {os.cpu_count()} cores")
    hdr = (f"{'scenario':<20} {'acked/s':>9} {'landed/s':>9} {'lost':>5} {'CPU-s/M':>8} {'recv CPU-s/M':>12} "
           f"{'recv cores':>10} {'RSS MiB':>8} {'p50 ms':>7} {'p99 ms':>7} {'p99.9 ms':>8} {'wire B/row':>10}  non-OK")
    print(hdr)
    for r in results:
        lost = max(0, r["records_acked"] - r["records_landed"])
        print(f"{r['scenario']:<20} {r['acked_records_per_s']:>9} {r['landed_records_per_s']:>9} {lost:>5} "
              f"{r['cpu_s_per_million']:>8} {r['receiver_cpu_s_per_million']:>12} {r['receiver_cores']:>10} "
              f"{r['peak_rss_mib']:>8} {r['latency_ms']['p50']:>7.2f} {r['latency_ms']['p99']:>7.2f} "
              f"{r['latency_ms']['p999']:>8.2f} {r['wire_bytes_per_row']:>10}  {r['non_200'] or ''}")
    if ceiling:
        print(f"ClickHouse ceiling (clickhouse-client, Native, the rows of {ceiling['scenario']}): "
              f"{ceiling['rows']} rows in {ceiling['seconds']} s = {ceiling['rows_per_s']} rows/s; "
              f"the same rows as RowBinary: {ceiling['rowbinary_rows_per_s']} rows/s; "
              f"Sluice landed {ceiling['sluice_landed_rows_per_s']} rows/s")
    doc = {"scenarios": results, "clickhouse_native_ceiling": ceiling, "cores": os.cpu_count()}
    json.dump(doc, open(os.path.join(DATA, "results.json"), "w"), indent=1)
    print(json.dumps(doc))
    lost = sum(max(0, r["records_acked"] - r["records_landed"]) for r in results)
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
