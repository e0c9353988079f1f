"""End-to-end benchmark of Sluice (run by `make bench`).

Starts ClickHouse (ports 28123/29000) and `sluice serve` (24318/24317, fsync always),
drives them with `sluice-loadgen` (OTLP logs of about 330 bytes with 8 attributes) through
several scenarios, and reports per scenario: acknowledged records/s, records landed in
ClickHouse (every acknowledged id checked), Sluice's CPU-seconds per million records from
/proc (split between receivers and the pipeline's worker/inserters by thread name), peak
RSS, and acknowledgement latency percentiles. Then ClickHouse's own insert of the same rows
(clickhouse-client, Native format) gives the ceiling.

First, the yardstick: the OpenTelemetry Collector (otlp receiver -> nop exporter, built once
by bench/collector/build into ~/.cache/sluice-bench) gets the same fixed-rate loads as Sluice
(logs, traces, metrics, gzip, 100-record and 10-record requests), and Sluice's CPU per record
is printed as a ratio to its own, with per-thread CPU, page faults and RSS. Sluice's idle
CPU and its RSS after every scenario are printed too, and its RSS over ten consecutive short
runs of those loads (flat or not). For the 100k records/s scenarios, the disk's own fdatasync
latency at that write rate is probed first (the floor under acknowledgement latency). Prints
tables and writes JSON to .data/bench/results.json.
"""
import json
import os
import shutil
import signal
import resource
import socket
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


def clickhouse_dir():
    """Where ClickHouse keeps its data: in memory (/dev/shm) when it has room, as a stand-in for
    ClickHouse on machines of its own, so that its part writes and merges do not queue in front
    of Sluice's fdatasync on the one disk; BENCH_CH_DIR chooses (e.g. .data/bench/clickhouse to
    measure both on one disk)."""
    if os.environ.get("BENCH_CH_DIR"):
        return os.environ["BENCH_CH_DIR"]
    try:
        st = os.statvfs("/dev/shm")
        if st.f_bavail * st.f_frsize >= 8 << 30:
            return "/dev/shm/sluice-bench-clickhouse"
    except OSError:
        pass
    return os.path.join(DATA, "clickhouse")


CH_DIR = clickhouse_dir()
TICK = os.sysconf("SC_CLK_TCK")
# Scenarios to profile with perf: BENCH_PROFILE=grpc-1000,http-100 (reports in .data/bench/)
PROFILE = [p for p in os.environ.get("BENCH_PROFILE", "").split(",") if p]
ONLY = [p for p in os.environ.get("BENCH_ONLY", "").split(",") if p]  # run only these scenarios
BODY = ["--body_min=20", "--body_max=80"]  # ~330-byte records
# The fixed-rate latency scenarios send as an exporter with a sending queue does (the
# Collector's and Alloy's OTLP exporters default to 10 consumers): up to 10 requests in flight
# per connection, so one slow answer does not hold back the requests due after it.
STREAMS = "--streams=10"

# name, loadgen arguments, what it measures. "buffer-" scenarios measure receiver to durable
# buffer alone: ClickHouse is paused (SIGSTOP) while the load runs, so neither it nor the
# pipeline's inserts compete for the cores; the backlog drains into it afterwards.
SCENARIOS = [
    ("buffer-grpc-1000", ["--protocol=grpc", "--records=1000", "--connections=4"],
     "receiver to buffer: OTLP/gRPC, no compression, 1000-record requests, closed loop"),
    ("buffer-grpc-1000-gzip", ["--protocol=grpc", "--records=1000", "--connections=4", "--compression=gzip"],
     "receiver to buffer: OTLP/gRPC, gzip, 1000-record requests, closed loop"),
    ("buffer-grpc-100k-rate", ["--protocol=grpc", "--records=100", "--connections=4", "--rate=100000", STREAMS],
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
    ("grpc-100k-rate", ["--protocol=grpc", "--records=100", "--connections=4", "--rate=100000", STREAMS],
     "OTLP/gRPC, 100-record requests at a fixed 100k records/s"),
    ("grpc-100k-rate-1000", ["--protocol=grpc", "--records=1000", "--connections=4", "--rate=100000", STREAMS],
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

# Side by side with the yardstick, the OpenTelemetry Collector with the OTLP receiver and the
# nop exporter (bench/collector: it receives, decodes and discards). The same load goes to
# Sluice, then to the Collector, at a fixed rate (both do the same work per second); records of
# the load generator's default size (~560 bytes of protobuf per log record). Sluice's CPU
# counts its whole path (receive, fsync'd log, encode, INSERT, until every acknowledged record
# is in ClickHouse); the ratio is Sluice's CPU per record over the Collector's.
FIXED = ["--connections=4", "--rate=30000"]
VERSUS = [
    ("vs-logs-1000", ["--signal=logs", "--protocol=grpc", "--records=1000"] + FIXED,
     "logs, OTLP/gRPC, 1000-record requests, 4 connections, 30k records/s"),
    ("vs-traces-1000", ["--signal=traces", "--protocol=grpc", "--records=1000"] + FIXED,
     "spans, the same"),
    ("vs-metrics-1000", ["--signal=metrics", "--protocol=grpc", "--records=1000"] + FIXED,
     "data points of the five kinds, the same"),
    ("vs-logs-1000-gzip", ["--signal=logs", "--protocol=grpc", "--records=1000", "--compression=gzip"] + FIXED,
     "logs, OTLP/gRPC with gzip, 1000-record requests"),
    ("vs-logs-100", ["--signal=logs", "--protocol=grpc", "--records=100"] + FIXED,
     "logs, OTLP/gRPC, 100-record requests (an agent's batch at low volume)"),
    ("vs-http-100", ["--signal=logs", "--protocol=http", "--records=100"] + FIXED,
     "logs, OTLP/HTTP protobuf, 100-record requests"),
    ("vs-logs-10-500conn", ["--signal=logs", "--protocol=grpc", "--records=10", "--connections=500",
                            "--rate=5000"],
     "logs, OTLP/gRPC, 10-record requests from 500 connections, one request a second each"),
]
COLLECTOR_GRPC_PORT, COLLECTOR_HTTP_PORT = 24517, 24518
SIGNAL_PIPELINE = {"logs": "bench-logs", "traces": "bench-traces", "metrics": "bench-metrics"}
# The pipeline each scenario sends to (default: bench-logs, HTTP RowBinary).
PIPELINE_OF = {"sink-native-lz4": "bench-logs-native", "sink-native-none": "bench-logs-native-none",
               "transform-filter": "bench-logs-filter", "transform-dedup": "bench-logs-dedup",
               "transform-stateless": "bench-logs-stateless",
               "grpc-100k-rate": "bench-logs-1s", "grpc-100k-rate-1000": "bench-logs-1s"}
# The acknowledgement-latency scenarios (100k records/s, fsync) stand for the production
# layout, where ClickHouse runs on machines of its own: here it shares Sluice's two cores, so
# while their load runs it yields them (nice 19; it still inserts everything, with the CPU
# left over), and their pipeline inserts as ClickHouse advises (batches of 10k-100k rows, about
# one INSERT a second: 100k rows at this rate). docs/performance.md gives the figures both ways.
CH_YIELDS = {"grpc-100k-rate", "grpc-100k-rate-1000"}


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


def pipeline_samples(pipeline, admin_port=ADMIN_PORT):
    """The pipeline's samples on the admin listener's /metrics (one scrape): {'name{labels}': value}."""
    page = urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/metrics", timeout=10).read().decode()
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in page.splitlines()
            if f'pipeline_id="{pipeline}"' in line and not line.startswith("#")}


def sent_bytes(samples, pipeline):
    """sluice_clickhouse_sent_bytes_total, from pipeline_samples."""
    return samples.get(f'sluice_clickhouse_sent_bytes_total{{pipeline_id="{pipeline}"}}', 0.0)


def buffer_syncs(samples, pipeline):
    """The buffer's syncs so far, from pipeline_samples: (all, those over 5 ms)."""
    name = "sluice_buffer_sync_duration_seconds"
    count = samples.get(f'{name}_count{{pipeline_id="{pipeline}"}}', 0.0)
    return count, count - samples.get(f'{name}_bucket{{pipeline_id="{pipeline}",le="0.005"}}', 0.0)


def pin(pid, cpus):
    """Sets the CPU affinity of every thread of a process (threads started later inherit it)."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            os.sched_setaffinity(int(tid), cpus)
        except OSError:
            pass


def renice(pid, nice):
    """Sets the nice value of every thread of a process (threads started later inherit their
    creator's). Lowering it again needs root; without, the process stays where it was."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            os.setpriority(os.PRIO_PROCESS, int(tid), nice)
        except OSError as e:
            print(f"renice {pid}/{tid} to {nice}: {e}", file=sys.stderr)
            return


def tasks_cpu(pid):
    """CPU seconds (user + system) of each thread of a process, by (tid, thread name)."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        out[(tid, comm)] = (int(fields[11]) + int(fields[12])) / TICK
    return out


def threads_cpu(pid):
    """CPU seconds per thread role: receivers (everything but the pipeline's threads),
    worker, inserters, syncer."""
    roles = {"sluice-worker": "worker", "sluice-insert": "insert", "sluice-sync": "sync"}
    return {(tid, roles.get(comm, "receive")): cpu for (tid, comm), cpu in tasks_cpu(pid).items()}


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


# Each signal's tables and the attribute map that holds loadgen.id (Nested(key, value) on 18.16).
SIGNAL_TABLES = {
    "logs": [("otel_logs", "LogAttributes")],
    "traces": [("otel_traces", "SpanAttributes")],
    "metrics": [(f"otel_metrics_{k}", "Attributes")
                for k in ("gauge", "sum", "histogram", "exponential_histogram", "summary")],
}


def landed(run_hex, signal="logs"):
    """Distinct loadgen.ids of a run in the signal's tables."""
    total = 0
    for table, col in SIGNAL_TABLES[signal]:
        total += int(ch(f"SELECT uniqExact({col}.value[indexOf({col}.key, 'loadgen.id')]) FROM otel.{table} "
                        f"WHERE startsWith({col}.value[indexOf({col}.key, 'loadgen.id')], '{run_hex}-')").strip())
    return total


def wait_landed(run_hex, want, deadline, signal="logs"):
    """Polls until `want` records of the run are in ClickHouse or `deadline` (time.time())
    passes; returns how many landed."""
    while True:
        got = landed(run_hex, signal)
        if got >= want or time.time() >= deadline:
            return got
        time.sleep(0.25)


def truncate_signal_tables():
    for table, _ in sum(SIGNAL_TABLES.values(), []):
        ch(f"TRUNCATE TABLE otel.{table}", data=b"")


def signal_of(args):
    """The signal a load generator's arguments send (--signal=...)."""
    return next(a.split("=")[1] for a in args if a.startswith("--signal="))


def non_ok(status):
    """The load generator's answers other than success, by status."""
    return {k: v for k, v in status.items() if k not in ("http 200", "grpc OK")}


def proc_stat(pid):
    """A process's CPU seconds (user + system), minor and major page faults, RSS in MiB (and of
    it mapped files), and its threads' context switches."""
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2:].split()
    rss = rss_file = 0.0
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
        elif line.startswith("RssFile:"):  # mapped files (the dedup index), not the heap
            rss_file = int(line.split()[1]) / 1024
    switches = 0  # context switches of every thread, voluntary or not: the wake-ups
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            for line in open(f"/proc/{pid}/task/{tid}/status"):
                if "ctxt_switches:" in line:
                    switches += int(line.split()[1])
        except OSError:
            pass
    return {"cpu": (int(fields[11]) + int(fields[12])) / TICK, "minflt": int(fields[7]),
            "majflt": int(fields[9]), "rss_mib": rss, "rss_file_mib": rss_file, "switches": switches}


def start_perf(name, pid):
    """perf (linux-perf) sampling a process during a scenario named in BENCH_PROFILE."""
    if name not in PROFILE:
        return None
    return subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-F", "999", "-g", "-p", str(pid), "-o",
                             os.path.join(DATA, f"perf-{name}.data")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_perf(perf, name):
    """Stops the sampling and writes its report to .data/bench/perf-<scenario>.txt."""
    if not perf:
        return
    perf.send_signal(signal.SIGINT)
    perf.wait()
    with open(os.path.join(DATA, f"perf-{name}.txt"), "w") as f:
        subprocess.run(["perf", "report", "-i", os.path.join(DATA, f"perf-{name}.data"),
                        "--no-children", "--sort", "comm,dso,symbol", "--percent-limit", "0.5",
                        "--stdio", "-g", "none"], stdout=f, stderr=subprocess.DEVNULL)


def idle_cpu(pid, seconds=5.0):
    """Sluice's CPU while nothing is sent (timers, polls), per thread name, in % of a core."""
    def by_name():
        out = {}
        for (_, comm), cpu in tasks_cpu(pid).items():
            out[comm] = out.get(comm, 0.0) + cpu
        return out
    before = by_name()
    time.sleep(seconds)
    after = by_name()
    per = {k: round(100 * (v - before.get(k, 0.0)) / seconds, 2) for k, v in after.items()}
    return {"total_pct": round(sum(per.values()), 2), "by_thread_pct": {k: v for k, v in per.items() if v > 0}}


def rss_text(stat):
    """RSS in MiB, and its share of mapped files (the binary and libraries, the dedup index)."""
    return f"{stat['rss_mib']:.0f} ({stat['rss_file_mib']:.0f})"


def start_collector():
    """Builds (once, cached outside the repository) and starts the yardstick Collector.
    Returns the process, or None with the reason printed when it cannot be built here."""
    build = subprocess.run([os.path.join(ROOT, "bench", "collector", "build")], capture_output=True, text=True)
    if build.returncode != 0:
        print(f"the Collector could not be built, no side-by-side figures: {build.stderr[-2000:]}", file=sys.stderr)
        return None
    env = dict(os.environ, COLLECTOR_GRPC_PORT=str(COLLECTOR_GRPC_PORT),
               COLLECTOR_HTTP_PORT=str(COLLECTOR_HTTP_PORT))
    proc = subprocess.Popen([build.stdout.strip().splitlines()[-1], "--config",
                             os.path.join(ROOT, "bench", "collector", "config.yaml")], env=env)
    for _ in range(100):  # its gRPC port accepts
        try:
            socket.create_connection(("127.0.0.1", COLLECTOR_GRPC_PORT), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    print("the Collector did not open its port", file=sys.stderr)
    return None


def loadgen(args, out, grpc_port, http_port, pipeline, run, seconds=SECONDS):
    subprocess.run([os.path.join(BIN, "sluice-loadgen"), f"--grpc_port={grpc_port}", f"--http_port={http_port}",
                    f"--pipeline={pipeline}", f"--run={run}", f"--duration={seconds}", f"--json={out}"] + args,
                   check=True, stdout=subprocess.DEVNULL)
    return json.load(open(out))


def disk_probe(chunk, rate, seconds=5):
    """The disk's own fdatasync latency (ms) when written like the log at a given load: `chunk`
    bytes appended and synced `rate` times a second (as a 100k records/s load with one request
    per sync would), in Sluice's data directory. The floor under acknowledgement latency."""
    path = os.path.join(DATA, "fsync-probe.bin")
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
    data, lat = os.urandom(chunk), []
    due = end = time.time()
    end += seconds
    try:
        while time.time() < end:
            os.write(fd, data)
            t0 = time.perf_counter()
            os.fdatasync(fd)
            lat.append((time.perf_counter() - t0) * 1000)
            due += 1.0 / rate
            time.sleep(max(0.0, due - time.time()))
    finally:
        os.close(fd)
        os.unlink(path)
    lat.sort()
    at = lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))], 2)
    return {"chunk_bytes": chunk, "syncs_per_s_asked": rate, "syncs_per_s": round(len(lat) / seconds),
            "p50": at(0.5), "p99": at(0.99), "p999": at(0.999)}


RSS_RUNS, RSS_RUN_SECONDS = 10, 3


def rss_repeat(sluice, first_run):
    """Sluice's RSS over ten consecutive short runs of the VERSUS loads (logs, traces, metrics,
    gzip, small requests, HTTP, 500 connections, cycled), after a warm-up pass of each load
    (the buffers a load needs are sized by its first run): whether it stays flat. Returns
    {runs: [(load, RSS MiB, file-mapped MiB)], growth_mib, flat, lost}."""
    runs, lost = [], 0
    truncate_signal_tables()
    for i in range(len(VERSUS) + RSS_RUNS):
        name, args, _ = VERSUS[i % len(VERSUS)]
        signal = signal_of(args)
        lg = loadgen(args, os.path.join(DATA, f"rss-{i}.json"), GRPC_PORT, HTTP_PORT, SIGNAL_PIPELINE[signal],
                     first_run + i, seconds=RSS_RUN_SECONDS)
        lost += max(0, lg["records_acked"] - wait_landed(lg["run_hex"], lg["records_acked"], time.time() + 120,
                                                         signal))
        if i >= len(VERSUS):
            st = proc_stat(sluice.pid)
            runs.append((name, round(st["rss_mib"], 1), round(st["rss_file_mib"], 1)))
    half = RSS_RUNS // 2
    growth = max(r[1] for r in runs[half:]) - max(r[1] for r in runs[:half])
    # Flat: the last five runs' peak is within 10 % of the first five's.
    return {"runs": runs, "growth_mib": round(growth, 1),
            "flat": growth <= 0.1 * max(r[1] for r in runs[:half]), "lost": lost}


def versus(sluice, collector, first_run):
    """Each VERSUS scenario to Sluice, then to the Collector. Returns a row per scenario."""
    rows = []
    for run, (name, args, what) in enumerate(VERSUS, start=first_run):
        if ONLY and name not in ONLY:
            continue
        signal = signal_of(args)
        truncate_signal_tables()
        before, roles_before, t0 = proc_stat(sluice.pid), threads_cpu(sluice.pid), time.time()
        perf = start_perf(name, sluice.pid)
        lg = loadgen(args, os.path.join(DATA, f"{name}.json"), GRPC_PORT, HTTP_PORT, SIGNAL_PIPELINE[signal], run)
        want = lg["records_acked"]
        got = wait_landed(lg["run_hex"], want, t0 + SECONDS + 300, signal)
        stop_perf(perf, name)
        after, roles = proc_stat(sluice.pid), cpu_delta(roles_before, threads_cpu(sluice.pid))
        row = {"scenario": name, "what": what, "records_acked": want, "records_landed": got,
               "acked_records_per_s": lg["acked_records_per_s"], "latency_ms": lg["latency_ms"],
               "non_ok": non_ok(lg["status"]),
               "request_bytes": lg["request_bytes"],
               "sluice_cpu_s_per_million": round((after["cpu"] - before["cpu"]) / max(got, 1) * 1e6, 3),
               "sluice_cpu_by_role_s_per_million": {k: round(v / max(got, 1) * 1e6, 3) for k, v in roles.items()},
               "sluice_minflt_per_request": round((after["minflt"] - before["minflt"]) / max(lg["requests_acked"], 1), 2),
               "sluice_switches_per_request": round((after["switches"] - before["switches"]) / max(lg["requests_acked"], 1), 1),
               "sluice_majflt": after["majflt"] - before["majflt"], "sluice_rss_mib": round(after["rss_mib"], 1),
               "sluice_rss": rss_text(after)}
        if collector:
            cb = proc_stat(collector.pid)
            clg = loadgen(args, os.path.join(DATA, f"{name}-collector.json"), COLLECTOR_GRPC_PORT,
                          COLLECTOR_HTTP_PORT, SIGNAL_PIPELINE[signal], run)
            time.sleep(0.5)  # the nop exporter answers in the call: nothing is left to do after it
            ca = proc_stat(collector.pid)
            cacked = clg["records_acked"]
            row.update({
                "collector_records_acked": cacked, "collector_latency_ms": clg["latency_ms"],
                "collector_non_ok": non_ok(clg["status"]),
                "collector_cpu_s_per_million": round((ca["cpu"] - cb["cpu"]) / max(cacked, 1) * 1e6, 3),
                "collector_minflt_per_request": round((ca["minflt"] - cb["minflt"]) / max(clg["requests_acked"], 1), 2),
                "collector_switches_per_request": round((ca["switches"] - cb["switches"]) / max(clg["requests_acked"], 1), 1),
                "collector_rss_mib": round(ca["rss_mib"], 1)})
            row["ratio"] = round(row["sluice_cpu_s_per_million"] / max(row["collector_cpu_s_per_million"], 1e-9), 3)
        rows.append(row)
    return rows


def print_versus(rows):
    print("\nSluice beside the OpenTelemetry Collector v0.161.0 (otlp receiver -> nop exporter), the same "
          f"load one after the other, {SECONDS:.0f} s each; CPU-s per million records")
    print(f"{'scenario':<20} {'Sluice':>7} {'recv':>6} {'worker':>6} {'insert':>6} {'sync':>5} {'Collector':>9} "
          f"{'ratio':>6} {'lost':>5} {'p99 ms':>7} {'coll p99':>8} {'minflt/req':>10} {'coll minflt/req':>15} "
          f"{'cs/req':>6} {'coll cs/req':>11} {'RSS MiB':>7} {'coll RSS':>8}")
    for r in rows:
        roles = r["sluice_cpu_by_role_s_per_million"]
        print(f"{r['scenario']:<20} {r['sluice_cpu_s_per_million']:>7} {roles['receive']:>6} {roles['worker']:>6} "
              f"{roles['insert']:>6} {roles['sync']:>5} {r.get('collector_cpu_s_per_million', '-'):>9} "
              f"{r.get('ratio', '-'):>6} {max(0, r['records_acked'] - r['records_landed']):>5} "
              f"{r['latency_ms']['p99']:>7.2f} {r.get('collector_latency_ms', {}).get('p99', 0):>8.2f} "
              f"{r['sluice_minflt_per_request']:>10} {r.get('collector_minflt_per_request', '-'):>15} "
              f"{r['sluice_switches_per_request']:>6} {r.get('collector_switches_per_request', '-'):>11} "
              f"{r['sluice_rss_mib']:>7} {r.get('collector_rss_mib', '-'):>8}  "
              f"{r['non_ok'] or ''}{r.get('collector_non_ok') or ''}")


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
    shutil.rmtree(CH_DIR, ignore_errors=True)
    os.makedirs(os.path.join(DATA, "pipelines"))
    chs = os.path.join(ROOT, "scripts", "clickhouse")
    subprocess.run([chs, "start", CH_DIR, str(CH_HTTP), str(CH_TCP)], check=True)
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
    one_a_second = json.loads(json.dumps(doc))
    one_a_second["pipeline_id"] = "bench-logs-1s"
    one_a_second["sink"]["max_batch_size"] = 100000
    json.dump(one_a_second, open(os.path.join(DATA, "pipelines", "bench-logs-1s.json"), "w"))
    for pid, compression in (("bench-logs-native", "lz4"), ("bench-logs-native-none", "none")):
        native = json.loads(json.dumps(doc))
        native["pipeline_id"] = pid
        cp = native["sink"]["connection_params"]
        cp.pop("http_port")
        cp.update({"port": str(CH_TCP), "compression": compression})
        json.dump(native, open(os.path.join(DATA, "pipelines", f"{pid}.json"), "w"))
    for other_signal in ("traces", "metrics"):  # the side-by-side scenarios' other signals, as bench-logs
        other = json.load(open(os.path.join(ROOT, "examples", "pipelines", f"otel-{other_signal}.json")))
        other["pipeline_id"] = SIGNAL_PIPELINE[other_signal]
        other["sink"]["connection_params"]["http_port"] = str(CH_HTTP)
        other["sink"]["max_batch_size"] = doc["sink"]["max_batch_size"]
        json.dump(other, open(os.path.join(DATA, "pipelines", f"{other['pipeline_id']}.json"), "w"))
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
    ch_pid = int(open(os.path.join(CH_DIR, "pid")).read())
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
    results, versus_rows, rss_after, idle, rss_ten, disk = [], [], [], {}, None, []
    ceiling = None
    collector = None
    try:
        wait_ready(HTTP_PORT)
        time.sleep(1)  # the pipeline reads its table schema
        if sluice.poll() is not None:
            raise RuntimeError("sluice exited at start (is an earlier benchmark still running?)")
        idle = idle_cpu(sluice.pid)
        if not ONLY or any("100k" in n for n in ONLY):
            # 100k records/s of ~560-byte records: 100-record requests (1000/s) or 1000-record ones (100/s).
            disk = [disk_probe(56000, 1000), disk_probe(560000, 100)]
        if any(not ONLY or name in ONLY for name, _, _ in VERSUS):
            collector = start_collector()
            versus_rows = versus(sluice, collector, first_run=1000)
            rss_after += [(r["scenario"], r["sluice_rss"]) for r in versus_rows]
        if not ONLY or "rss-ten" in ONLY:
            rss_ten = rss_repeat(sluice, first_run=2000)
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
            samples = pipeline_samples(pipeline, admin_port)
            sent_before, syncs_before = sent_bytes(samples, pipeline), buffer_syncs(samples, pipeline)
            before = threads_cpu(proc.pid)
            t0 = time.time()
            perf = start_perf(name, sluice.pid)
            paused = name.startswith("buffer-")
            if paused:
                os.kill(ch_pid, signal.SIGSTOP)
            own_core = name.endswith("-own-core") and os.cpu_count() >= 2
            if own_core:
                pin(sluice.pid, {1})
                pin(ch_pid, {0})
            ch_yields = name in CH_YIELDS and not os.environ.get("BENCH_CH_SHARES")
            if ch_yields:
                renice(ch_pid, 19)
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
            lg_before = resource.getrusage(resource.RUSAGE_CHILDREN)
            ch_before = proc_stat(ch_pid)["cpu"]
            subprocess.run((["taskset", "-c", "0"] if own_core else []) + [os.path.join(BIN, "sluice-loadgen")] + ports + [
                            f"--pipeline={pipeline}", f"--run={run}",
                            f"--duration={SECONDS / 2 if paused else SECONDS}", f"--json={out}"] + BODY + args,
                           check=True, stdout=subprocess.DEVNULL)
            lg_after = resource.getrusage(resource.RUSAGE_CHILDREN)
            loadgen_cpu = (lg_after.ru_utime + lg_after.ru_stime) - (lg_before.ru_utime + lg_before.ru_stime)
            ch_cpu = proc_stat(ch_pid)["cpu"] - ch_before
            sent_cpu = cpu_delta(before, threads_cpu(proc.pid))
            syncs_after = buffer_syncs(pipeline_samples(pipeline, admin_port), pipeline)
            if ch_yields:
                renice(ch_pid, 0)
            scraping.set()
            if paused:
                os.kill(ch_pid, signal.SIGCONT)
            stop_perf(perf, name)
            send_s = time.time() - t0
            lg = json.load(open(out))
            want = lg["records_acked"]
            at_load_end = landed(lg["run_hex"])
            load_end = time.time()
            got = wait_landed(lg["run_hex"], want, t0 + SECONDS + 300)
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
                "non_200": non_ok(lg["status"]),
                "cpu_s_per_million": round(total_cpu / max(got, 1) * 1e6, 3),
                "metrics_scrapes": scrapes[0],
                "receiver_cpu_s_per_million": round(sent_cpu["receive"] / max(want, 1) * 1e6, 3),
                "receiver_cores": round(sent_cpu["receive"] / send_s, 2),
                # what shares the cores during the load: the generator and ClickHouse
                "loadgen_cores": round(loadgen_cpu / send_s, 2),
                "clickhouse_cores": round(ch_cpu / send_s, 2),
                # the buffer's fdatasyncs while the load ran: how many, and how many took > 5 ms
                "buffer_syncs": int(syncs_after[0] - syncs_before[0]),
                "buffer_syncs_over_5ms": int(syncs_after[1] - syncs_before[1]),
                "cpu_by_role_s": {k: round(v, 2) for k, v in cpu.items()},
                "peak_rss_mib": round(peak_rss_mib(proc.pid), 1),
                "latency_ms": lg["latency_ms"], "request_bytes": lg["request_bytes"],
                # of the latency: send to answer, and how late the generator sent
                "round_trip_ms": lg["round_trip_ms"], "late_ms": lg["late_ms"],
                # INSERT data on the wire per row (compressed, retries included)
                "wire_bytes_per_row": round((sent_bytes(pipeline_samples(pipeline, admin_port), pipeline) - sent_before) / max(got, 1), 1)})
            rss_after.append((name, rss_text(proc_stat(proc.pid))))
            if name == CEILING_OF:
                ceiling = native_ceiling(name, results[-1]["landed_records_per_s"])
        # Idle: the watchdog trims the heap every 10 s.
        time.sleep(16)
        rss_after.append(("idle 16 s later", rss_text(proc_stat(sluice.pid))))
    finally:
        if collector:
            collector.send_signal(signal.SIGTERM)
            collector.wait(timeout=30)
        for p in (sluice, tls_sluice):
            if p:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=60)
        subprocess.run([chs, "stop", CH_DIR])
        if not CH_DIR.startswith(DATA):  # in memory: give it back
            shutil.rmtree(CH_DIR, ignore_errors=True)
    print(f"\nSluice idle (running, nothing sent): {idle['total_pct']}% of a core {idle['by_thread_pct']}")
    if versus_rows:
        print_versus(versus_rows)
    for d in disk:
        print(f"\nThe disk alone (no Sluice work): {d['chunk_bytes']}-byte appends, each fdatasync'd, asked "
              f"{d['syncs_per_s_asked']}/s, done {d['syncs_per_s']}/s: fdatasync p50 {d['p50']} ms, p99 {d['p99']} ms, "
              f"p99.9 {d['p999']} ms")
    if rss_ten:
        print(f"\nSluice's RSS after each of {RSS_RUNS} consecutive {RSS_RUN_SECONDS:.0f}-s runs, after a warm-up "
              f"pass of each load (MiB; of it mapped "
              f"files): " + ", ".join(f"{n} {r:.0f} ({f:.0f})" for n, r, f in rss_ten["runs"]) +
              f"; the last five's peak over the first five's: {rss_ten['growth_mib']} MiB: "
              f"{'flat' if rss_ten['flat'] else 'NOT FLAT'}; lost {rss_ten['lost']}")
    print(f"\nSluice end to end: fsync=always, {SECONDS:.0f} s per scenario, loadgen, Sluice and "
          f"ClickHouse on the same {os.cpu_count()} cores, ClickHouse's data in {CH_DIR}; during "
          f"{', '.join(sorted(CH_YIELDS))} ClickHouse runs at nice 19"
          f"{' (not: BENCH_CH_SHARES)' if os.environ.get('BENCH_CH_SHARES') else ''}")
    hdr = (f"{'scenario':<20} {'acked/s':>9} {'landed/s':>9} {'lost':>5} {'CPU-s/M':>8} {'recv CPU-s/M':>12} "
           f"{'recv cores':>10} {'RSS MiB':>8} {'p50 ms':>7} {'p99 ms':>7} {'p99.9 ms':>8} {'rtt p99':>7} {'late p99':>8} {'gen/CH cores':>12} {'syncs >5ms':>12} {'wire B/row':>10}  non-OK")
    print(hdr)
    for r in results:
        lost = max(0, r["records_acked"] - r["records_landed"])
        print(f"{r['scenario']:<20} {r['acked_records_per_s']:>9} {r['landed_records_per_s']:>9} {lost:>5} "
              f"{r['cpu_s_per_million']:>8} {r['receiver_cpu_s_per_million']:>12} {r['receiver_cores']:>10} "
              f"{r['peak_rss_mib']:>8} {r['latency_ms']['p50']:>7.2f} {r['latency_ms']['p99']:>7.2f} "
              f"{r['latency_ms']['p999']:>8.2f} {r['round_trip_ms']['p99']:>7.2f} {r['late_ms']['p99']:>8.2f} "
              f"{str(r['loadgen_cores']) + '/' + str(r['clickhouse_cores']):>12} "
              f"{str(r['buffer_syncs']) + ' ' + str(r['buffer_syncs_over_5ms']):>12} "
              f"{r['wire_bytes_per_row']:>10}  {r['non_200'] or ''}")
    if ceiling:
        print(f"ClickHouse ceiling (clickhouse-client, Native, the rows of {ceiling['scenario']}): "
              f"{ceiling['rows']} rows in {ceiling['seconds']} s = {ceiling['rows_per_s']} rows/s; "
              f"the same rows as RowBinary: {ceiling['rowbinary_rows_per_s']} rows/s; "
              f"Sluice landed {ceiling['sluice_landed_rows_per_s']} rows/s")
    print("Sluice's RSS (MiB; of it mapped files) after each scenario, in order: " + ", ".join(f"{n} {v}" for n, v in rss_after))
    doc = {"scenarios": results, "versus_collector": versus_rows, "idle_cpu": idle, "rss_after_mib": rss_after,
           "rss_ten_runs": rss_ten, "disk_fdatasync_ms": disk,
           "clickhouse_native_ceiling": ceiling, "cores": os.cpu_count()}
    json.dump(doc, open(os.path.join(DATA, "results.json"), "w"), indent=1)
    print(json.dumps(doc))
    lost = sum(max(0, r["records_acked"] - r["records_landed"]) for r in results + versus_rows)
    lost += rss_ten["lost"] if rss_ten else 0
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
