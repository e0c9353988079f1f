"""The web console (/ui/ on the admin listener) in a real browser: Debian's Chromium,
headless, driven by playwright-core (tests/e2e/console.mjs). A pipeline is created from a
template with live validation, a real OTLP client's records move its counters, a test
record is followed into its table, the table is dropped and the pipeline fails with its
reason, is fixed and recovers, and a dead letter is reprocessed; axe-core checks each page.
Screenshots are kept in .data/e2e/console-shots/. Also the console's files over HTTP: public
(no token), with their policy headers, while the API they call asks for the token.
"""
import os
import secrets
import subprocess
import urllib.parse

import harness
from harness import CH_HTTP, CH_TCP, DATA, ROOT, Sluice, ch, check, post

SHOTS = os.path.join(DATA, "console-shots")
TOKEN = "console-" + secrets.token_hex(12)


def fetch(url, token=None, method="GET", headers=None):
    """harness.post to a local URL: (status, headers by lower-case name, body)."""
    u = urllib.parse.urlsplit(url)
    headers = dict(headers or {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return post(u.path + (f"?{u.query}" if u.query else ""), b"", headers, method=method, port=u.port)


def test_files(s):
    print("console: its files are public, with a strict policy; the API still asks for the token")
    base = f"http://127.0.0.1:{s.admin_port}"
    st, hd, body = fetch(f"{base}/ui/")
    check("GET /ui/ without a token: 200, the page", st == 200 and b"<html" in body, f"{st} {body[:80]}")
    csp = hd.get("content-security-policy", "")
    check("a policy that allows only its own files", "script-src 'self'" in csp and "default-src 'none'" in csp and
          "frame-ancestors 'none'" in csp, csp)
    check("nosniff", hd.get("x-content-type-options") == "nosniff", str(hd))
    st, hd, body = fetch(f"{base}/ui/app.js")
    check("the script, as JavaScript", st == 200 and hd.get("content-type", "").startswith("text/javascript"), str(hd))
    st, _, _ = fetch(f"{base}/ui/no-such-file.js")
    check("an unknown file: 404", st == 404, str(st))
    st, _, _ = fetch(f"{base}/ui/", method="POST")
    check("POST on a console path with no token: 401 (only reads are public)", st == 401, str(st))
    st, _, _ = fetch(f"{base}/api/v1/pipeline")
    check("the API without the token: 401", st == 401, str(st))
    st, _, _ = fetch(f"{base}/api/v1/stats/history", token=TOKEN)
    check("the history with the token: 200", st == 200, str(st))
    # A page of another site may not drive the admin listener through a browser.
    st, _, body = fetch(f"{base}/api/v1/pipeline/x/stop", token=TOKEN, method="POST",
                        headers={"Origin": "http://evil.example"})
    check("a request from another origin: 403, even with the token", st == 403 and b"another origin" in body,
          f"{st} {body[:200]}")
    st, _, _ = fetch(f"{base}/api/v1/pipeline", token=TOKEN, headers={"Origin": "null"})
    check("an opaque origin: 403", st == 403, str(st))
    st, _, _ = fetch(f"{base}/api/v1/pipeline", token=TOKEN,
                     headers={"Origin": f"http://127.0.0.1:{s.admin_port}"})
    check("the listener's own origin (the console): 200", st == 200, str(st))


def test_foreign_pages():
    print("console: requests another site's page makes a browser send are refused")
    main = f"http://127.0.0.1:{harness.ADMIN_PORT}"  # the e2e server: no admin token
    port = harness.ADMIN_PORT
    st, _, body = fetch(f"{main}/api/v1/pipeline", headers={"Host": f"rebound.example:{port}"})
    check("no token: a Host naming another machine (DNS rebinding) is 403", st == 403 and b"loopback" in body,
          f"{st} {body[:200]}")
    st, _, _ = fetch(f"{main}/api/v1/pipeline", headers={"Host": f"127.0.0.1.nip.io:{port}"})
    check("no token: a name that only starts like a loopback address is 403", st == 403, str(st))
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", "localhost"):
        st, _, _ = fetch(f"{main}/api/v1/pipeline", headers={"Host": host})
        check(f"no token: Host {host} is served", st == 200, str(st))
    st, _, _ = fetch(f"{main}/api/v1/pipeline/otel-logs/dlq/consume", headers={"Sec-Fetch-Site": "cross-site"})
    check("an image of another site's page (Sec-Fetch-Site: cross-site, no Origin) is 403", st == 403, str(st))
    st, _, _ = fetch(f"{main}/api/v1/pipeline", headers={"Sec-Fetch-Site": "same-site"})
    check("a page of the same site on another port is 403", st == 403, str(st))
    st, _, _ = fetch(f"{main}/ui/", headers={"Sec-Fetch-Site": "cross-site"})
    check("a link from another site to the console's page is served", st == 200, str(st))
    st, _, _ = fetch(f"{main}/api/v1/pipeline", headers={"Sec-Fetch-Site": "same-origin",
                                                         "Origin": f"http://127.0.0.1:{port}"})
    check("the console's own requests are served", st == 200, str(st))


def test_test_records():
    print("console: a test record of each signal followed into its table (the e2e server's example pipelines)")
    import json
    import time
    base = f"http://127.0.0.1:{harness.ADMIN_PORT}/api/v1/pipeline"
    want = {"otel-logs": ("otel.otel_logs", "Body"), "otel-traces": ("otel.otel_traces", "SpanName"),
            "otel-metrics": ("otel.otel_metrics_gauge", "MetricDescription")}
    for pid, (table, column) in want.items():
        st, _, body = fetch(f"{base}/{pid}/test-record", method="POST")
        sent = json.loads(body) if st == 202 else {}
        check(f"{pid}: test record sent (202)", st == 202, f"{st} {body[:200]}")
        if st != 202:
            continue
        where, deadline = {}, time.time() + 30
        while time.time() < deadline:
            st, _, body = fetch(f"{base}/{pid}/test-record?test_id={sent['test_id']}")
            where = json.loads(body) if st == 200 else {"status": f"HTTP {st}"}
            if where.get("status") != "buffered":
                break
            time.sleep(0.2)
        check(f"{pid}: landed in {table}, found by {column}", where.get("status") == "landed" and
              where.get("table") == table and column in where.get("columns", []), str(where))
        n = ch(f"SELECT count() FROM {table} WHERE {column} = 'sluice test record {sent['marker']}'").strip()
        check(f"{pid}: exactly one row holds it", n == "1", n)


def test_browser(s):
    print("console: a real browser creates, watches, breaks, fixes and reprocesses")
    if not os.path.exists("/usr/bin/chromium"):
        check("Debian's Chromium is installed (scripts/install-deps)", False)
        return
    ch("DROP TABLE IF EXISTS otel.console_logs")
    ch("CREATE TABLE otel.console_logs AS otel.otel_logs")
    env = dict(os.environ, URL=f"http://127.0.0.1:{s.admin_port}", TOKEN=TOKEN,
               CH=f"http://127.0.0.1:{CH_HTTP}", CH_HTTP=str(CH_HTTP), CH_TCP=str(CH_TCP), OTLP_HTTP=str(s.http_port),
               OTLP_GRPC=str(s.grpc_port), RUN="console-" + secrets.token_hex(4), SHOTS=SHOTS,
               CLIENTS=os.path.join(ROOT, "tests", "clients"))
    p = subprocess.run(["node", os.path.join(ROOT, "tests", "e2e", "console.mjs")], env=env,
                       capture_output=True, text=True, timeout=900)
    seen = 0
    for line in p.stdout.splitlines():
        if not line.startswith("CHECK "):
            continue
        seen += 1
        _, verdict, rest = line.split(" ", 2)
        name, _, detail = rest.partition(" | ")
        check(f"console: {name}", verdict == "ok", detail)
    check("console: the browser run reported its checks", seen >= 40 and p.returncode in (0, 1),
          f"{seen} checks, exit {p.returncode}: {p.stderr[-800:]}")
    print(f"console: screenshots in {SHOTS}")


def run_all():
    test_foreign_pages()
    test_test_records()
    s = Sluice("console", [], config={"admin": {"token": TOKEN}}).start()
    try:
        test_files(s)
        test_browser(s)
    finally:
        s.stop()
