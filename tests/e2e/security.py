"""TLS, mTLS and credentials on Sluice's listeners, against real clients: Python's ssl and
http.client, grpcio, the OpenTelemetry JS exporters (tests/clients/send.mjs) and the
OpenTelemetry Python SDK's exporters (tests/clients/py_send.py, in the pinned venv that
scripts/install-deps makes). Certificates come from certs.py (openssl only). Every accepted
request's rows are counted exactly in ClickHouse, every refused one lands nothing, and the
refusal counters move by exactly what was refused. Run by e2e.py (group "security").
"""
import base64
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time

import certs
import harness
from harness import (ROOT, SLUICE, Sluice, ch, check, logs_json, logs_pipeline, logs_request, metric, node_send_ext,
                     post, rpc_status, wait_rows, H)

PKI = {}
PYOTEL = os.path.join(ROOT, ".deps", "pyotel", "bin", "python")
BAD_CREDENTIALS = "missing or invalid credentials"
LOGS_EXPORT = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"


def pki():
    if not PKI:
        PKI.update(certs.make())
    return PKI


# ---------------------------------------------------------------- clients

def client_ctx(ca="ca", cert=None, alpn=None, max_version=None, ciphers=None):
    """A client context that verifies the server's certificate (against `ca`: "ca" is CA A,
    "ca_b" CA B) and name, presenting `cert` ("client", "client_b", "expired") if given."""
    p = pki()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(p[ca])
    if cert:
        ctx.load_cert_chain(p[cert + "_cert"], p[cert + "_key"])
    if alpn:
        ctx.set_alpn_protocols(alpn)
    if max_version:
        ctx.maximum_version = max_version
    if ciphers:
        ctx.set_ciphers(ciphers)
    return ctx


def server_tls(mtls=True, cert="server", **extra):
    """A listener's `tls` block: the server certificate (for 127.0.0.1 and localhost, signed
    by CA A), and with `mtls` clients must present a certificate signed by CA A."""
    p = pki()
    t = {"cert_file": p[cert + "_cert"], "key_file": p[cert + "_key"]}
    if mtls:
        t["client_ca_file"] = p["ca"]
    t.update(extra)
    return t


def tls_probe(port, ctx, wait=1.0):
    """One TLS connection that sends nothing after its handshake. ("accepted", DER of the
    server's certificate, ALPN protocol, TLS version, cipher) when the server keeps it open
    (waiting for a request) or speaks first (HTTP/2's SETTINGS); ("refused", why) when the
    handshake fails or the server closes the connection (with TLS 1.3 the server's verdict
    on a client certificate arrives after the client finished its side); ("client-rejected",
    why) when the client does not trust the server."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        try:
            s = ctx.wrap_socket(sock, server_hostname="127.0.0.1")
        except ssl.SSLCertVerificationError as e:
            return ("client-rejected", e.verify_message)
        except (ssl.SSLError, OSError) as e:
            return ("refused", repr(e))
        s.settimeout(wait)
        try:
            data = s.recv(1)
        except socket.timeout:
            data = None
        except (ssl.SSLError, OSError) as e:
            return ("refused", repr(e))
        if data == b"":
            return ("refused", "closed without an alert")
        return ("accepted", s.getpeercert(True), s.selected_alpn_protocol(), s.version(), s.cipher()[0])
    finally:
        sock.close()


def https_post(port, ctx, path, body, headers):
    """A request on a fresh HTTPS connection: (status, headers, body, server certificate DER),
    or (None, repr of the error) when the connection or handshake failed."""
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=15, context=ctx)
    try:
        conn.request("POST", path, body=body, headers=headers)
        r = conn.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data, conn.sock.getpeercert(True)
    except (OSError, http.client.HTTPException) as e:
        return None, repr(e)
    finally:
        conn.close()


def raw_answer(port, data, timeout=10):
    """Sends raw bytes on a plain connection and reads until the server closes it (or
    `timeout`): (status or None, everything received, closed by the server, seconds)."""
    t0 = time.time()
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    got, closed = b"", False
    try:
        try:
            if data:
                sock.sendall(data)
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    closed = True
                    break
                got += chunk
        except socket.timeout:
            pass
        except OSError:
            closed = True  # reset
    finally:
        sock.close()
    line = got.split(b"\r\n", 1)[0]
    st = int(line.split()[1]) if line.startswith(b"HTTP/1.1 ") else None
    return st, got, closed, time.time() - t0


GRPC_OPTIONS = [  # one channel, one connection, one attempt: refusals are counted exactly
    ("grpc.use_local_subchannel_pool", 1), ("grpc.enable_retries", 0),
    ("grpc.initial_reconnect_backoff_ms", 30000), ("grpc.min_reconnect_backoff_ms", 30000),
    ("grpc.max_reconnect_backoff_ms", 30000)]


def grpc_creds(ca="ca", cert=None):
    import grpc
    p = pki()
    rd = lambda f: open(f, "rb").read()  # noqa: E731
    if cert:
        return grpc.ssl_channel_credentials(rd(p[ca]), rd(p[cert + "_key"]), rd(p[cert + "_cert"]))
    return grpc.ssl_channel_credentials(rd(p[ca]))


def grpc_channel(port, creds=None, options=()):
    import grpc
    target = f"127.0.0.1:{port}"
    opts = GRPC_OPTIONS + list(options)
    return grpc.secure_channel(target, creds, options=opts) if creds else grpc.insecure_channel(target, options=opts)


def grpc_call(port, body, metadata=(), creds=None, method=LOGS_EXPORT, channel=None, timeout=10):
    """A unary call with raw bytes, on `channel` or a channel of its own (closed after):
    (status code name, details)."""
    import grpc
    own = channel is None
    if own:
        channel = grpc_channel(port, creds)
    try:
        channel.unary_unary(method)(body, metadata=tuple(metadata), timeout=timeout)
        return "OK", ""
    except grpc.RpcError as e:
        return e.code().name, e.details() or ""
    finally:
        if own:
            channel.close()


def logs_pb(run, n):
    """ExportLogsServiceRequest bytes: n records with attribute test.run = run."""
    return logs_request(run, n, "sec-grpc").SerializeToString()


def rows(run):
    """SQL: the rows whose log attributes carry `run` (logs_json, logs_pb)."""
    return f"SELECT count() FROM otel.otel_logs WHERE has(LogAttributes.value, '{run}')"


def resource_rows(run):
    """SQL: the rows whose resource attributes carry `run` (the SDK exporters)."""
    return f"SELECT count() FROM otel.otel_logs WHERE has(ResourceAttributes.value, '{run}')"


def count(sql):
    return int(ch(sql).strip())


def refused(m, listener, reason):
    return metric(m, "sluice_listener_refused_total", listener=listener, reason=reason)


def wait_metric(s, name, want, timeout=10, **labels):
    """Polls /metrics until the sample equals `want`; returns the last value."""
    deadline = time.time() + timeout
    while True:
        v = metric(s.metrics(), name, **labels)
        if v == want or time.time() > deadline:
            return v
        time.sleep(0.1)


# ---------------------------------------------------------------- a. HTTPS + mTLS

def test_https_mtls():
    print("OTLP/HTTP over TLS with client certificates (mTLS): the right client lands rows, "
          "others are refused in the handshake, exactly counted")
    p = pki()
    good = client_ctx(cert="client")
    s = Sluice("sec-https", [logs_pipeline("sec-https")], config={"http": {"tls": server_tls()}},
               client_tls={"http": good}).start("sec-https")
    try:
        st, hd, body = s.post("/v1/logs", logs_json("sec-https-ok", 3), H("sec-https"))
        check("CA A + client certificate from CA A: 200 {}", st == 200 and body == b"{}", f"{st} {body!r}")
        check("its 3 rows land", wait_rows(rows("sec-https-ok"), 3))
        check("/healthz and /readyz over HTTPS: 200",
              [s.post(x, b"", {}, method="GET")[0] for x in ("/healthz", "/readyz")] == [200, 200])
        r = tls_probe(s.http_port, client_ctx(cert="client", alpn=["http/1.1"]))
        check("the served certificate is server.pem, ALPN http/1.1",
              r[0] == "accepted" and r[1] == certs.der(p["server_cert"]) and r[2] == "http/1.1", str(r[:1] + r[2:]))
        m = s.metrics()
        check("sluice_tls_certificate_not_after_seconds{listener=http} is server.pem's notAfter",
              metric(m, "sluice_tls_certificate_not_after_seconds", listener="http") == certs.not_after(p["server_cert"]),
              f"{metric(m, 'sluice_tls_certificate_not_after_seconds', listener='http')} vs "
              f"{certs.not_after(p['server_cert'])}")

        # Connections accepted: exactly those made (three good requests, fresh connections).
        m0 = s.metrics()
        for i in range(3):
            s.post("/v1/logs", logs_json("sec-https-count", 1), H("sec-https"))
        m1 = s.metrics()
        d = lambda name, **kw: metric(m1, name, **kw) - metric(m0, name, **kw)  # noqa: E731
        check("sluice_listener_connections_accepted_total{listener=http} grew by exactly 3",
              d("sluice_listener_connections_accepted_total", listener="http") == 3,
              str(d("sluice_listener_connections_accepted_total", listener="http")))
        check("...and {listener=admin} by exactly 1 (the scrape)",
              d("sluice_listener_connections_accepted_total", listener="admin") == 1,
              str(d("sluice_listener_connections_accepted_total", listener="admin")))

        # Refused by the server: no client certificate, one from CA B, an expired one. Each
        # is tried twice (a bare handshake, then a whole request); after each, a good client
        # is served at once.
        m0 = s.metrics()
        server_refusals = 0
        for name, cert in (("no client certificate", None), ("a client certificate from CA B", "client_b"),
                           ("an expired client certificate from CA A", "expired")):
            ctx = client_ctx(cert=cert)
            r = tls_probe(s.http_port, ctx)
            check(f"{name}: the server refuses the handshake (an alert or a close at the client)",
                  r[0] == "refused", str(r[:2]))
            run = f"sec-https-refused-{cert}"
            out = https_post(s.http_port, ctx, "/v1/logs", logs_json(run, 2), H("sec-https"))
            check(f"{name}: a whole request fails at the client, unanswered", out[0] is None, str(out[:2]))
            server_refusals += 2
            after = f"sec-https-after-{cert}"
            st = s.post("/v1/logs", logs_json(after, 1), H("sec-https"))[0]
            check(f"{name}: the next good client is served (200) and lands",
                  st == 200 and wait_rows(rows(after), 1), str(st))
        m1 = s.metrics()
        got = refused(m1, "http", "tls_handshake") - refused(m0, "http", "tls_handshake")
        check(f"sluice_listener_refused_total{{listener=http,reason=tls_handshake}} grew by exactly "
              f"{server_refusals}", got == server_refusals, str(got))
        for cert in (None, "client_b", "expired"):
            n = count(rows(f"sec-https-refused-{cert}"))
            check(f"nothing of the refused requests landed ({cert})", n == 0, str(n))

        # The client's own refusal: it trusts CA B only.
        m0 = s.metrics()
        r = tls_probe(s.http_port, client_ctx(ca="ca_b", cert="client"))
        check("a client trusting CA B only fails verifying the server (client side)",
              r[0] == "client-rejected", str(r[:2]))
        out = https_post(s.http_port, client_ctx(ca="ca_b", cert="client"), "/v1/logs",
                         logs_json("sec-https-client-ca-b", 1), H("sec-https"))
        check("...and its request fails with a certificate verification error",
              out[0] is None and "CERTIFICATE_VERIFY_FAILED" in out[1], str(out[:2]))
        got = refused(s.metrics(), "http", "tls_handshake") - refused(m0, "http", "tls_handshake")
        print(f"       (the server counted {got} tls_handshake refusals for the 2 handshakes the client broke off)")

        # Plain HTTP to the HTTPS port gets no HTTP answer.
        st, raw, _, _ = raw_answer(s.http_port, b"POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                   b"x-glassflow-pipeline-id: sec-https\r\nContent-Length: %d\r\n\r\n%s" %
                                   (len(logs_json("sec-https-plain", 1)), logs_json("sec-https-plain", 1)), timeout=5)
        check("plain HTTP to the HTTPS port: no HTTP 200", st != 200, f"{st} {raw[:60]!r}")
        time.sleep(0.5)
        check("...and nothing of it lands", count(rows("sec-https-plain")) == 0)
        v = wait_metric(s, "sluice_listener_connections", 0, listener="http")
        check("sluice_listener_connections{listener=http} back to 0 once the clients are gone", v == 0, str(v))
    finally:
        s.stop()


# ---------------------------------------------------------------- TLS versions, cipher suites

def test_tls_versions_and_ciphers():
    print("min_version and cipher_suites: an older or other client is refused in the handshake")
    cfg = {"http": {"tls": server_tls(mtls=False, min_version="1.3")},
           "grpc": {"tls": server_tls(mtls=False, min_version="1.2",
                                      cipher_suites=["TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"])}}
    s = Sluice("sec-versions", [logs_pipeline("sec-versions")], config=cfg,
               client_tls={"http": client_ctx()}).start("sec-versions")
    try:
        m0 = s.metrics()
        r = tls_probe(s.http_port, client_ctx())
        check("HTTP (min_version 1.3): a TLS 1.3 client is served", r[0] == "accepted" and r[3] == "TLSv1.3",
              str(r[:1] + r[2:]))
        r = tls_probe(s.http_port, client_ctx(max_version=ssl.TLSVersion.TLSv1_2))
        check("HTTP (min_version 1.3): a client of TLS 1.2 at most is refused", r[0] == "refused", str(r[:2]))
        r = tls_probe(s.grpc_port, client_ctx(alpn=["h2"], max_version=ssl.TLSVersion.TLSv1_2,
                                              ciphers="ECDHE-ECDSA-AES256-GCM-SHA384"))
        check("gRPC (TLS 1.2, one cipher suite): a client offering it is served with it, ALPN h2",
              r[0] == "accepted" and r[2:] == ("h2", "TLSv1.2", "ECDHE-ECDSA-AES256-GCM-SHA384"), str(r[:1] + r[2:]))
        r = tls_probe(s.grpc_port, client_ctx(alpn=["h2"], max_version=ssl.TLSVersion.TLSv1_2,
                                              ciphers="ECDHE-ECDSA-AES128-GCM-SHA256"))
        check("gRPC: a TLS 1.2 client offering only another suite is refused", r[0] == "refused", str(r[:2]))
        m1 = s.metrics()
        for listener in ("http", "grpc"):
            got = refused(m1, listener, "tls_handshake") - refused(m0, listener, "tls_handshake")
            check(f"{listener}: exactly 1 tls_handshake refusal counted", got == 1, str(got))
        st = s.post("/v1/logs", logs_json("sec-versions", 2), H("sec-versions"))[0]
        check("a request over TLS 1.3 lands", st == 200 and wait_rows(rows("sec-versions"), 2), str(st))
    finally:
        s.stop()


# ---------------------------------------------------------------- b. gRPC + mTLS

def test_grpc_mtls():
    print("OTLP/gRPC over TLS with client certificates (grpcio): the right client lands rows, "
          "others are refused, exactly counted")
    p = pki()
    s = Sluice("sec-grpc", [logs_pipeline("sec-grpc")],
               config={"grpc": {"tls": server_tls()}}).start("sec-grpc")
    md = (("x-glassflow-pipeline-id", "sec-grpc"),)
    try:
        code, det = grpc_call(s.grpc_port, logs_pb("sec-grpc-ok", 4), md, grpc_creds(cert="client"))
        check("CA A + client certificate from CA A: OK", code == "OK", f"{code} {det}")
        check("its 4 rows land", wait_rows(rows("sec-grpc-ok"), 4))
        r = tls_probe(s.grpc_port, client_ctx(cert="client", alpn=["h2"]))
        check("the gRPC port speaks TLS with ALPN h2, serving server.pem",
              r[0] == "accepted" and r[2] == "h2" and r[1] == certs.der(p["server_cert"]), str(r[:1] + r[2:]))
        code, _ = grpc_call(s.grpc_port, b"", creds=grpc_creds(cert="client"), method="/grpc.health.v1.Health/Check")
        check("grpc.health.v1 over mTLS: OK", code == "OK", code)
        code, det = grpc_call(s.grpc_port, logs_pb("sec-grpc-plain", 1), md)
        check("a plaintext gRPC client is not served", code == "UNAVAILABLE", f"{code} {det}")
        m = s.metrics()
        check("sluice_tls_certificate_not_after_seconds{listener=grpc} is server.pem's notAfter",
              metric(m, "sluice_tls_certificate_not_after_seconds", listener="grpc") == certs.not_after(p["server_cert"]))
        m0 = s.metrics()
        n = 0
        for name, cert in (("no client certificate", None), ("a client certificate from CA B", "client_b"),
                           ("an expired client certificate from CA A", "expired")):
            run = f"sec-grpc-refused-{cert}"
            code, det = grpc_call(s.grpc_port, logs_pb(run, 2), md, grpc_creds(cert=cert))
            check(f"{name}: UNAVAILABLE at the client", code == "UNAVAILABLE", f"{code} {det}")
            r = tls_probe(s.grpc_port, client_ctx(cert=cert, alpn=["h2"]))
            check(f"{name}: the server refuses the handshake", r[0] == "refused", str(r[:2]))
            n += 2
            after = f"sec-grpc-after-{cert}"
            code, det = grpc_call(s.grpc_port, logs_pb(after, 1), md, grpc_creds(cert="client"))
            check(f"{name}: the next good client is served and lands", code == "OK" and wait_rows(rows(after), 1),
                  f"{code} {det}")
        got = refused(s.metrics(), "grpc", "tls_handshake") - refused(m0, "grpc", "tls_handshake")
        check(f"sluice_listener_refused_total{{listener=grpc,reason=tls_handshake}} grew by exactly {n}", got == n,
              str(got))
        for cert in (None, "client_b", "expired"):
            check(f"nothing of the refused calls landed ({cert})", count(rows(f"sec-grpc-refused-{cert}")) == 0)
        check("nothing of the plaintext call landed", count(rows("sec-grpc-plain")) == 0)
        code, det = grpc_call(s.grpc_port, logs_pb("sec-grpc-ca-b", 1), md, grpc_creds(ca="ca_b", cert="client"))
        check("a client trusting CA B only: UNAVAILABLE (its own verification failed)", code == "UNAVAILABLE",
              f"{code} {det}")
    finally:
        s.stop()


# ---------------------------------------------------------------- c. JS exporters over TLS

def test_js_exporters_tls():
    print("OpenTelemetry JS exporters over mTLS (http/json, http/protobuf, grpc) with a bearer token")
    p = pki()
    token = "sec-e2e-js-token-5d1e8b"
    cfg = {"http": {"tls": server_tls()}, "grpc": {"tls": server_tls()},
           "auth": {"bearer_tokens": [{"token": token}]}}
    s = Sluice("sec-js", [logs_pipeline("sec-js")], config=cfg, client_tls={"http": client_ctx(cert="client")},
               wait_headers={"authorization": f"Bearer {token}"}).start("sec-js")
    tls = dict(ca=p["ca"], cert=p["client_cert"], key=p["client_key"])
    try:
        for protocol, gz in (("http/json", False), ("http/protobuf", False), ("http/protobuf", True), ("grpc", False),
                             ("grpc", True)):
            run = f"sec-js-{protocol}-{'gzip' if gz else 'none'}"
            ok, out = node_send_ext("logs", protocol, 5, run, "sec-js", s.http_port, s.grpc_port, gzip_=gz,
                                    token=token, **tls)
            check(f"{run}: export succeeded", ok, out)
            check(f"{run}: 5 rows", wait_rows(resource_rows(run), 5))
        row = ch("SELECT Body, SeverityText, ServiceName, ScopeName, LogAttributes.key FROM otel.otel_logs "
                 "WHERE has(ResourceAttributes.value, 'sec-js-grpc-none') ORDER BY Timestamp LIMIT 1 "
                 "FORMAT TabSeparated").rstrip("\n")
        check("a JS row over gRPC/TLS, exactly", row == "run=sec-js-grpc-none seq=0\tINFO\tjs-sender\tsluice-e2e\t"
              "['seq','test.run','ok','ratio']", repr(row))
        for protocol, kw, what in (("grpc", dict(ca=p["ca"]), "no client certificate"),
                                   ("http/protobuf", dict(ca=p["ca"]), "no client certificate"),
                                   ("http/protobuf", dict(ca=p["ca"], cert=p["client_b_cert"], key=p["client_b_key"]),
                                    "a client certificate from CA B"),
                                   ("grpc", dict(ca=p["ca_b"], cert=p["client_cert"], key=p["client_key"]),
                                    "trusting CA B only")):
            run = f"sec-js-bad-{protocol}-{len(kw)}-{what[:6]}"
            ok, out = node_send_ext("logs", protocol, 2, run, "sec-js", s.http_port, s.grpc_port, token=token,
                                    timeout_ms=3000, **kw)
            check(f"{protocol} with {what}: the exporter reports failure", not ok, out)
            time.sleep(0.3)
            check(f"{protocol} with {what}: nothing lands", count(resource_rows(run)) == 0)
    finally:
        s.stop()


def test_grpc_go_tls():
    print("grpc-go (the Collector's gRPC and TLS stack: configtls's ca_file/cert_file/key_file, bearertokenauth) "
          "over mTLS, with zstd")
    from robustness import otlpgrpc
    p = pki()
    token = "sec-e2e-go-token-77a0c2"
    cfg = {"grpc": {"tls": server_tls(min_version="1.3")},
           "auth": {"bearer_tokens": [{"token": token, "pipelines": ["sec-go"]}]}}
    s = Sluice("sec-go", [logs_pipeline("sec-go")], config=cfg).start("sec-go", wait=False)
    tls = ["-ca", p["ca"], "-cert", p["client_cert"], "-key", p["client_key"]]
    try:
        harness.wait_loaded(s.admin_port)
        rep = {}
        for _ in range(100):  # the pipeline reads its table schema
            rep = otlpgrpc("-pipeline", "sec-go", "-run", "sec-go-warm", "-records", "1", "-token", token, *tls,
                           port=s.grpc_port)
            if rep.get("codes") == {"OK": 1}:
                break
            time.sleep(0.2)
        run = "sec-go-mtls"
        rep = otlpgrpc("-pipeline", "sec-go", "-run", run, "-requests", "20", "-records", "5", "-concurrency", "4",
                       "-compression", "zstd", "-token", token, *tls, port=s.grpc_port)
        check("20 calls over TLS 1.3 with a client certificate and the token: all OK", rep.get("codes") == {"OK": 20},
              str(rep)[:300])
        check("...and their 100 records land",
              wait_rows(f"SELECT count() FROM otel.otel_logs WHERE has(LogAttributes.value, '{run}')", 100))
        rep = otlpgrpc("-pipeline", "sec-go", "-run", "sec-go-notoken", *tls, port=s.grpc_port)
        check("without the token: UNAUTHENTICATED", rep.get("codes") == {"Unauthenticated": 1}, str(rep)[:300])
        rep = otlpgrpc("-pipeline", "sec-go", "-run", "sec-go-nocert", "-ca", p["ca"], "-token", token,
                       "-timeout", "3s", port=s.grpc_port)
        check("without a client certificate: refused (UNAVAILABLE)", rep.get("codes") == {"Unavailable": 1},
              str(rep)[:300])
        check("nothing of the refused calls landed",
              count("SELECT count() FROM otel.otel_logs WHERE has(LogAttributes.value, 'sec-go-notoken') "
                    "OR has(LogAttributes.value, 'sec-go-nocert')") == 0)
    finally:
        s.stop()


# ---------------------------------------------------------------- d. Python SDK over mTLS

def py_send(protocol, endpoint, run, pipeline, count_=3, timeout=10, **kw):
    cmd = [PYOTEL, os.path.join(ROOT, "tests", "clients", "py_send.py"), "--protocol", protocol, "--endpoint",
           endpoint, "--pipeline", pipeline, "--run", run, "--count", str(count_), "--timeout", str(timeout)]
    for k, v in kw.items():
        if v is not None:
            cmd += [f"--{k}", v]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    return p.returncode == 0, (p.stdout + p.stderr).strip()[-600:]


def test_python_sdk_tls():
    print("OpenTelemetry Python SDK exporters (OTLP/HTTP and OTLP/gRPC) over mTLS")
    if not check("the SDK venv is installed (scripts/install-deps: .deps/pyotel)", os.path.exists(PYOTEL), PYOTEL):
        return
    p = pki()
    cfg = {"http": {"tls": server_tls()}, "grpc": {"tls": server_tls()}}
    s = Sluice("sec-py", [logs_pipeline("sec-py")], config=cfg,
               client_tls={"http": client_ctx(cert="client")}).start("sec-py")
    http_url, grpc_url = f"https://127.0.0.1:{s.http_port}/v1/logs", f"https://127.0.0.1:{s.grpc_port}"
    mtls = dict(ca=p["ca"], cert=p["client_cert"], key=p["client_key"])
    try:
        for protocol, url in (("http", http_url), ("grpc", grpc_url)):
            run = f"sec-py-{protocol}"
            ok, out = py_send(protocol, url, run, "sec-py", 4, **mtls)
            check(f"{protocol}: export succeeded", ok, out)
            check(f"{protocol}: 4 rows", wait_rows(resource_rows(run), 4))
            row = ch(f"SELECT Body, SeverityText, SeverityNumber, ServiceName, ScopeName, ScopeVersion, "
                     f"LogAttributes.key, LogAttributes.value FROM otel.otel_logs "
                     f"WHERE has(ResourceAttributes.value, '{run}') ORDER BY Timestamp LIMIT 1 "
                     f"FORMAT TabSeparated").rstrip("\n")
            want = f"run={run} seq=0\tINFO\t9\tpy-sender\tsluice-e2e-py\t0.9.0\t['seq','test.run']\t['0','{run}']"
            check(f"{protocol}: the first row, exactly", row == want, f"\n got  {row!r}\n want {want!r}")
            bad = f"sec-py-{protocol}-nocert"
            ok, out = py_send(protocol, url, bad, "sec-py", 2, timeout=3, ca=p["ca"])
            check(f"{protocol} without a client certificate: the export fails", not ok, out)
            bad2 = f"sec-py-{protocol}-expired"
            ok, out = py_send(protocol, url, bad2, "sec-py", 2, timeout=3, ca=p["ca"], cert=p["expired_cert"],
                              key=p["expired_key"])
            check(f"{protocol} with an expired client certificate: the export fails", not ok, out)
            time.sleep(0.3)
            check(f"{protocol}: nothing of the failed exports landed",
                  count(resource_rows(bad)) + count(resource_rows(bad2)) == 0)
    finally:
        s.stop()


# ---------------------------------------------------------------- e. credentials

T1, T2, T3 = "sec-e2e-t1-a9f04c", "sec-e2e-t2-env-77b1d2", "sec-e2e-t3-file-3e55aa"
PW_U, PW_V, PW_W = "sec-e2e-pw-u-41c2", "sec-e2e-pw-v-env-8d0f", "sec-e2e-pw-w-file-c6a3"
WRONG = "sec-e2e-wrong-token-0000"


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_auth():
    print("credentials on OTLP/HTTP and OTLP/gRPC: bearer tokens and basic users bound to pipelines, "
          "exact codes, messages and counters, no secret anywhere")
    d = os.path.join(harness.DATA, "sec-auth-secrets")
    os.makedirs(d, exist_ok=True)
    open(os.path.join(d, "t3"), "w").write(T3 + "\n")  # a trailing newline, as `echo` writes it
    open(os.path.join(d, "pw-w"), "w").write(PW_W + "\n")
    env = {"SEC_E2E_T2": T2, "SEC_E2E_PW_V": PW_V}
    A, B, NX = "sec-auth-a", "sec-auth-b", "sec-auth-x"  # NX: no such pipeline, as long as B
    auth = {"bearer_tokens": [{"token": T1, "pipelines": [A]},
                              {"token_env": "SEC_E2E_T2"},
                              {"token_file": os.path.join(d, "t3"), "pipelines": [B]}],
            "basic": [{"username": "u", "password": PW_U, "pipelines": [B]},
                      {"username": "v", "password_env": "SEC_E2E_PW_V", "pipelines": [B]},
                      {"username": "w", "password_file": os.path.join(d, "pw-w"), "pipelines": [A, B]}]}
    s = Sluice("sec-auth", [logs_pipeline(A), logs_pipeline(B)], config={"auth": auth},
               wait_headers={"authorization": f"Bearer {T2}"})
    s.start(A, env=env)
    post_until_ok = harness.post_until("/v1/logs", b"", H(B, "application/x-protobuf", authorization=f"Bearer {T2}"),
                                       200, port=s.http_port)
    check("both pipelines up", post_until_ok == 200, str(post_until_ok))
    answers = []  # every body and header the server sent: no secret may be in them
    tally = {"http": {"unauthenticated": 0, "forbidden": 0}, "grpc": {"unauthenticated": 0, "forbidden": 0}}
    try:
        m0 = s.metrics()

        def http_req(pipeline, authz, run, ctype="application/json", n=1):
            body = logs_json(run, n) if ctype == "application/json" else logs_pb(run, n)
            hdrs = H(pipeline, ctype)
            if authz is not None:
                hdrs["authorization"] = authz
            conn = http.client.HTTPConnection("127.0.0.1", s.http_port, timeout=15)
            conn.request("POST", "/v1/logs", body=body, headers=hdrs)
            r = conn.getresponse()
            data = r.read()
            challenges = r.msg.get_all("WWW-Authenticate") or []
            hd = {k.lower(): v for k, v in r.getheaders()}
            conn.close()
            answers.append(data.decode(errors="replace") + json.dumps(hd))
            if r.status == 401:
                tally["http"]["unauthenticated"] += 1
            if r.status == 403:
                tally["http"]["forbidden"] += 1
            return r.status, hd, data, ", ".join(challenges)

        def json_status(data):
            try:
                doc = json.loads(data)
                return doc.get("code"), doc.get("message")
            except ValueError:
                return None, data[:100]

        # --- HTTP
        st, hd, data, chal = http_req(A, None, "sec-auth-none")
        check("HTTP, no Authorization -> 401", st == 401, str(st))
        check("...with WWW-Authenticate: Bearer realm=\"sluice\" and Basic realm=\"sluice\"",
              'Bearer realm="sluice"' in chal and 'Basic realm="sluice"' in chal, chal)
        check("...and a JSON Status UNAUTHENTICATED 'missing or invalid credentials'",
              json_status(data) == (16, BAD_CREDENTIALS) and hd.get("content-type") == "application/json", repr(data))
        st, hd, data, _ = http_req(A, None, "sec-auth-none-pb", ctype="application/x-protobuf")
        check("HTTP protobuf, no Authorization -> 401 with a protobuf Status",
              st == 401 and rpc_status(data)[:2] == (16, BAD_CREDENTIALS) and
              hd.get("content-type") == "application/x-protobuf", f"{st} {data!r}")
        st, _, data, _ = http_req(A, f"Bearer {WRONG}", "sec-auth-wrong")
        check("HTTP, an unknown token -> 401, the same message", st == 401 and json_status(data) == (16, BAD_CREDENTIALS),
              f"{st} {data!r}")
        st, _, data, _ = http_req(NX, None, "sec-auth-none-nx")
        check("HTTP, no credentials to a pipeline that does not exist -> 401 (not 404)", st == 401, str(st))
        for what, authz in (("'Bearer' and an empty token", "Bearer "), ("'Bearer' alone", "Bearer"),
                            ("another scheme", f"Token {T1}"), ("the token without a scheme", T1),
                            ("basic, wrong password", basic("u", "nope")), ("basic, unknown user", basic("zz", PW_U)),
                            ("basic with a token's text", basic("u", T1)), ("basic, not base64", "Basic %%%")):
            st, _, data, _ = http_req(A, authz, "sec-auth-bad")
            check(f"HTTP, {what} -> 401", st == 401 and json_status(data) == (16, BAD_CREDENTIALS), f"{st} {data!r}")
        st, _, data, _ = http_req(A, f"Bearer {T1}", "sec-auth-t1-a", n=3)
        check("HTTP, T1 (bound to a) to a -> 200", st == 200 and data == b"{}", f"{st} {data!r}")
        st, hd_b, forb_b, _ = http_req(B, f"Bearer {T1}", "sec-auth-t1-b")
        code, msg = json_status(forb_b)
        check("HTTP, T1 to b -> 403 PERMISSION_DENIED naming b", st == 403 and code == 7 and B in (msg or ""),
              f"{st} {forb_b!r}")
        st, hd_x, forb_x, _ = http_req(NX, f"Bearer {T1}", "sec-auth-t1-b")
        check("HTTP, T1 to a pipeline that does not exist -> 403 too", st == 403, str(st))
        same = {k: v for k, v in hd_b.items() if k != "date"} == {k: v for k, v in hd_x.items() if k != "date"}
        check("...byte for byte the answer for b but for the id (body and headers)",
              forb_x.replace(NX.encode(), B.encode()) == forb_b and same, f"{forb_b!r} {forb_x!r}")
        for what, pipeline, authz, run, want in (
                ("T2 (token_env, all pipelines) to b", B, f"Bearer {T2}", "sec-auth-t2-b", 200),
                ("T2 to a", A, f"Bearer {T2}", "sec-auth-t2-a", 200),
                ("T3 (token_file with a trailing newline, bound to b) to b", B, f"Bearer {T3}", "sec-auth-t3-b", 200),
                ("T3 to a", A, f"Bearer {T3}", "sec-auth-t3-a", 403),
                ("basic u (bound to b) to b", B, basic("u", PW_U), "sec-auth-u-b", 200),
                ("basic u to a", A, basic("u", PW_U), "sec-auth-u-a", 403),
                ("basic v (password_env) to b", B, basic("v", PW_V), "sec-auth-v-b", 200),
                ("basic w (password_file) to a", A, basic("w", PW_W), "sec-auth-w-a", 200),
                ("a lowercase 'bearer' scheme (RFC 7235: case-insensitive)", A, f"bearer {T1}", "sec-auth-lower", 200),
                ("an uppercase 'BASIC' scheme", B, basic("u", PW_U).replace("Basic", "BASIC"), "sec-auth-upper", 200),
                ("the token followed by spaces (trailing whitespace is not part of a field value)", A,
                 f"Bearer {T1}   ", "sec-auth-trailing", 200),
                ("T1 with one character more", A, f"Bearer {T1}x", "sec-auth-t1x", 401),
                ("T1 but for its last character", A, f"Bearer {T1[:-1]}", "sec-auth-t1-short", 401)):
            st, _, data, _ = http_req(pipeline, authz, run, n=2)
            check(f"HTTP, {what} -> {want}", st == want, f"{st} {data!r}")
        st, _, data, _ = http_req(NX, f"Bearer {T2}", "sec-auth-t2-nx")
        check("HTTP, T2 (all pipelines) to a pipeline that does not exist -> 404 as without auth", st == 404, str(st))
        for path in ("/healthz", "/readyz"):
            st = post(path, b"", {}, method="GET", port=s.http_port)[0]
            check(f"HTTP {path} needs no credentials: 200", st == 200, str(st))

        # --- gRPC
        def grpc_req(pipeline, authz, run, n=1, method=LOGS_EXPORT):
            md = [("x-glassflow-pipeline-id", pipeline)]
            if authz is not None:
                md.append(("authorization", authz))
            code, det = grpc_call(s.grpc_port, logs_pb(run, n), md, method=method)
            answers.append(det)
            if code == "UNAUTHENTICATED":
                tally["grpc"]["unauthenticated"] += 1
            if code == "PERMISSION_DENIED":
                tally["grpc"]["forbidden"] += 1
            return code, det

        code, det = grpc_req(A, None, "sec-auth-g-none")
        check("gRPC, no authorization -> UNAUTHENTICATED 'missing or invalid credentials'",
              (code, det) == ("UNAUTHENTICATED", BAD_CREDENTIALS), f"{code} {det}")
        code, det = grpc_req(A, f"Bearer {WRONG}", "sec-auth-g-wrong")
        check("gRPC, an unknown token -> UNAUTHENTICATED, the same message",
              (code, det) == ("UNAUTHENTICATED", BAD_CREDENTIALS), f"{code} {det}")
        code, det = grpc_req(NX, None, "sec-auth-g-none-nx")
        check("gRPC, no credentials to a pipeline that does not exist -> UNAUTHENTICATED (not NOT_FOUND)",
              code == "UNAUTHENTICATED", f"{code} {det}")
        code, det_b = grpc_req(B, f"Bearer {T1}", "sec-auth-g-t1-b")
        check("gRPC, T1 to b -> PERMISSION_DENIED naming b", code == "PERMISSION_DENIED" and B in det_b,
              f"{code} {det_b}")
        code, det_x = grpc_req(NX, f"Bearer {T1}", "sec-auth-g-t1-b")
        check("gRPC, T1 to a pipeline that does not exist -> PERMISSION_DENIED, the same message but for the id",
              code == "PERMISSION_DENIED" and det_x.replace(NX, B) == det_b, f"{code} {det_x!r} vs {det_b!r}")
        for what, pipeline, authz, run, want in (
                ("T1 to a", A, f"Bearer {T1}", "sec-auth-g-t1-a", "OK"),
                ("T2 (token_env) to b", B, f"Bearer {T2}", "sec-auth-g-t2-b", "OK"),
                ("T3 (token_file) to b", B, f"Bearer {T3}", "sec-auth-g-t3-b", "OK"),
                ("T3 to a", A, f"Bearer {T3}", "sec-auth-g-t3-a", "PERMISSION_DENIED"),
                ("basic u to b", B, basic("u", PW_U), "sec-auth-g-u-b", "OK"),
                ("basic u to a", A, basic("u", PW_U), "sec-auth-g-u-a", "PERMISSION_DENIED"),
                ("basic u, wrong password", B, basic("u", "nope"), "sec-auth-g-u-bad", "UNAUTHENTICATED"),
                ("'Bearer' and an empty token", A, "Bearer ", "sec-auth-g-empty", "UNAUTHENTICATED"),
                ("a lowercase 'bearer' scheme", A, f"bearer {T1}", "sec-auth-g-lower", "OK"),
                ("the token followed by spaces", A, f"Bearer {T1}   ", "sec-auth-g-trailing", "OK")):
            code, det = grpc_req(pipeline, authz, run, n=2)
            check(f"gRPC, {what} -> {want}", code == want, f"{code} {det}")
        code, _ = grpc_call(s.grpc_port, b"", method="/grpc.health.v1.Health/Check")
        check("gRPC health needs no credentials: OK", code == "OK", code)

        # --- the JS exporters with a token
        for protocol in ("http/protobuf", "grpc"):
            run = f"sec-auth-js-{protocol}"
            ok, out = node_send_ext("logs", protocol, 3, run, A, s.http_port, s.grpc_port, token=T1)
            check(f"JS {protocol} with T1: export succeeded", ok, out)
            check(f"JS {protocol} with T1: 3 rows", wait_rows(resource_rows(run), 3))
            bad = f"sec-auth-js-bad-{protocol}"
            ok, out = node_send_ext("logs", protocol, 3, bad, A, s.http_port, s.grpc_port, token=WRONG,
                                    timeout_ms=3000)
            check(f"JS {protocol} with a wrong token: the exporter reports failure", not ok, out)
            answers.append(out)
            tally["http" if protocol.startswith("http") else "grpc"]["unauthenticated"] += 1  # not retried (401, 16)
            ok, out = node_send_ext("logs", protocol, 3, bad, B, s.http_port, s.grpc_port, token=T1, timeout_ms=3000)
            check(f"JS {protocol} with T1 to b: the exporter reports failure", not ok, out)
            tally["http" if protocol.startswith("http") else "grpc"]["forbidden"] += 1  # 403 / 7: not retried

        # --- exact rows: what was accepted landed, nothing else did
        accepted = {"sec-auth-t1-a": 3, "sec-auth-t2-b": 2, "sec-auth-t2-a": 2, "sec-auth-t3-b": 2, "sec-auth-u-b": 2,
                    "sec-auth-v-b": 2, "sec-auth-w-a": 2, "sec-auth-lower": 2, "sec-auth-upper": 2,
                    "sec-auth-trailing": 2, "sec-auth-g-t1-a": 2, "sec-auth-g-t2-b": 2, "sec-auth-g-t3-b": 2,
                    "sec-auth-g-u-b": 2, "sec-auth-g-lower": 2, "sec-auth-g-trailing": 2}
        for run, n in accepted.items():
            check(f"{run}: {n} rows", wait_rows(rows(run), n))
        refused_runs = ["sec-auth-none", "sec-auth-none-pb", "sec-auth-wrong", "sec-auth-none-nx", "sec-auth-bad",
                        "sec-auth-t1-b", "sec-auth-t3-a", "sec-auth-u-a", "sec-auth-t1x", "sec-auth-t1-short",
                        "sec-auth-t2-nx", "sec-auth-g-none", "sec-auth-g-wrong", "sec-auth-g-none-nx",
                        "sec-auth-g-t1-b", "sec-auth-g-t3-a", "sec-auth-g-u-a", "sec-auth-g-u-bad", "sec-auth-g-empty"]
        n = sum(count(rows(r)) for r in refused_runs) + sum(
            count(resource_rows(f"sec-auth-js-bad-{p}")) for p in ("http/protobuf", "grpc"))
        check("nothing refused landed", n == 0, str(n))

        # --- counters
        m1 = s.metrics()
        for listener in ("http", "grpc"):
            for reason in ("unauthenticated", "forbidden"):
                got = refused(m1, listener, reason) - refused(m0, listener, reason)
                want = tally[listener][reason]
                check(f"sluice_listener_refused_total{{listener={listener},reason={reason}}} grew by exactly {want}",
                      got == want, str(got))

        # --- no secret anywhere
        secrets = [T1, T2, T3, PW_U, PW_V, PW_W, WRONG, base64.b64encode(f"u:{PW_U}".encode()).decode()]
        pages = [("answers", "\n".join(answers)), ("the server log", s.log()),
                 ("/metrics", s.admin("/metrics")[1]), ("/api/v1/pipeline", json.dumps(s.admin("/api/v1/pipeline")[1]))]
        v = subprocess.run([SLUICE, "validate", "--config", s.config_path], capture_output=True, text=True,
                           env=dict(os.environ, **env))
        pages.append(("sluice validate", v.stdout + v.stderr))
        for where, text in pages:
            leaked = [x for x in secrets if x in text]
            check(f"no token or password in {where}", not leaked, str(leaked))
        check("sluice validate passes on this config", v.returncode == 0, v.stdout + v.stderr)
    finally:
        s.stop()


# ---------------------------------------------------------------- f. admin listener

ADMIN_T = "sec-e2e-admin-token-19ce0f"


def test_admin_token():
    print("admin.token: every admin route but the health ones needs it; the OTLP port does not")
    s = Sluice("sec-admin", [logs_pipeline("sec-admin")], config={"admin": {"token": ADMIN_T}}).start("sec-admin")
    try:
        m0 = s.metrics()
        n401 = 0
        for path in ("/metrics", "/api/v1/pipeline", "/api/v1/pipeline/sec-admin/health"):
            st, _ = s.admin(path, token="")
            check(f"{path} without the token -> 401", st == 401, str(st))
            st, _ = s.admin(path, token="sec-e2e-not-the-admin-token")
            check(f"{path} with another token -> 401", st == 401, str(st))
            n401 += 2
            st, doc = s.admin(path)
            check(f"{path} with the token -> 200", st == 200, f"{st} {str(doc)[:100]}")
        st, _ = s.admin("/metrics", token=T1)
        n401 += 1
        check("an OTLP-looking token is no admin token -> 401", st == 401, str(st))
        for path in ("/healthz", "/readyz", "/api/v1/healthz", "/api/v2/healthz"):
            st, _ = s.admin(path, token="")
            check(f"{path} without a token -> 200", st == 200, str(st))
        st = s.post("/v1/logs", logs_json("sec-admin-otlp", 2), H("sec-admin"))[0]
        check("the OTLP port takes requests without credentials (no auth configured)",
              st == 200 and wait_rows(rows("sec-admin-otlp"), 2), str(st))
        m1 = s.metrics()
        got = refused(m1, "admin", "unauthenticated") - refused(m0, "admin", "unauthenticated")
        check(f"sluice_listener_refused_total{{listener=admin,reason=unauthenticated}} grew by exactly {n401}",
              got == n401, str(got))
        text = s.admin("/metrics")[1]
        check("the admin token is in neither the log nor /metrics", ADMIN_T not in s.log() and ADMIN_T not in text)
    finally:
        s.stop()


def test_admin_exposed():
    print("admin.address off loopback: refused without both admin.token and admin.tls; served with both")
    p = pki()
    for what, admin in (("neither token nor tls", {}), ("a token but no tls", {"token": ADMIN_T}),
                        ("tls but no token", {"tls": server_tls(mtls=False)})):
        s = Sluice("sec-admin-exposed", [logs_pipeline("sec-admin-exposed")],
                   config={"admin": dict({"address": "0.0.0.0"}, **admin)})
        t0 = time.time()
        s.start(wait=False)
        try:
            rc = s.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            rc = None
        took = time.time() - t0
        s.stop()
        check(f"0.0.0.0 with {what}: sluice serve exits 1 within 10 s", rc == 1, f"rc {rc} after {took:.1f} s")
        check(f"0.0.0.0 with {what}: the log names admin.address", "admin.address" in s.log(), s.log()[-300:])
    token_file = os.path.join(harness.DATA, "sec-admin-token")
    open(token_file, "w").write(ADMIN_T + "\n")
    s = Sluice("sec-admin-exposed", [logs_pipeline("sec-admin-exposed")],
               config={"admin": {"address": "0.0.0.0", "token_file": token_file, "tls": server_tls(mtls=False)}},
               client_tls={"admin": client_ctx()}, admin_token=ADMIN_T).start("sec-admin-exposed")
    try:
        check("0.0.0.0 with token_file and tls: the server runs", s.proc.poll() is None)
        st, _ = s.admin("/metrics")
        check("/metrics over HTTPS with the token -> 200", st == 200, str(st))
        st, _ = s.admin("/metrics", token="")
        check("/metrics over HTTPS without it -> 401", st == 401, str(st))
        st, _ = s.admin("/readyz", token="")
        check("/readyz over HTTPS without a token -> 200", st == 200, str(st))
        r = tls_probe(s.admin_port, client_ctx())
        check("the admin port serves server.pem", r[0] == "accepted" and r[1] == certs.der(p["server_cert"]), str(r[:2]))
        st, raw, _, _ = raw_answer(s.admin_port, b"GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                                   ADMIN_T.encode() + b"\r\n\r\n", timeout=5)
        check("plain HTTP to the admin port gets no 200", st != 200, f"{st} {raw[:60]!r}")
        m = s.metrics()
        check("sluice_tls_certificate_not_after_seconds{listener=admin} is server.pem's notAfter",
              metric(m, "sluice_tls_certificate_not_after_seconds", listener="admin") == certs.not_after(p["server_cert"]))
        # The CLI reads the same config: the token, and the certificate it pins.
        r = subprocess.run([harness.SLUICE, "status", "--config", s.config_path, "--json"],
                           capture_output=True, text=True, timeout=30)
        check("`sluice status --config` talks to the TLS admin listener with its token",
              r.returncode == 0 and "sec-admin-exposed" in r.stdout, (r.stdout + r.stderr)[-300:])
        r = subprocess.run([harness.SLUICE, "status", "--config", s.config_path, "--json"],
                           capture_output=True, text=True, timeout=30,
                           env=dict(os.environ, SLUICE_ADMIN_TOKEN="not-the-token"))
        check("`sluice status` with a wrong SLUICE_ADMIN_TOKEN: exit 1, the answer 401 named",
              r.returncode == 1 and "401" in r.stderr and ADMIN_T not in r.stderr, r.stderr[-300:])
    finally:
        s.stop()


# ---------------------------------------------------------------- g. limits

def test_http_limits():
    print("HTTP limits: 431 for a header over max_header_bytes, 408 for a stalled header, idle connections closed")
    s = Sluice("sec-http-limits", [logs_pipeline("sec-limits")],
               config={"http": {"max_header_bytes": 8192, "request_timeout": "1s", "idle_timeout": "1s"}}
               ).start("sec-limits")
    try:
        m0 = s.metrics()
        body = logs_json("sec-limits-under", 2)
        head = (b"POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"x-glassflow-pipeline-id: sec-limits\r\nConnection: close\r\n")
        st, raw, closed, _ = raw_answer(s.http_port, head + b"X-Pad: " + b"a" * 6000 + b"\r\nContent-Length: %d\r\n\r\n%s"
                                        % (len(body), body))
        check("a 6 KB header under max_header_bytes 8192 -> 200", st == 200, f"{st} {raw[:80]!r}")
        check("...and its rows land", wait_rows(rows("sec-limits-under"), 2))
        big = logs_json("sec-limits-over", 2)
        st, raw, closed, _ = raw_answer(s.http_port, head.replace(b"Connection: close\r\n", b"") + b"X-Pad: " +
                                        b"a" * 9000 + b"\r\nContent-Length: %d\r\n\r\n%s" % (len(big), big))
        check("a 9 KB header over max_header_bytes 8192 -> 431, then the connection is closed",
              st == 431 and closed, f"{st} closed={closed} {raw[:80]!r}")
        # A partial header, then silence: 408 after request_timeout, then close.
        st, raw, closed, took = raw_answer(s.http_port, b"POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Ty", timeout=8)
        check(f"a header stalled past request_timeout 1s -> 408, then close ({took:.1f} s)",
              st == 408 and closed and 0.8 <= took <= 4, f"{st} closed={closed} {raw[:80]!r}")
        # A keep-alive connection left idle after its request is closed after idle_timeout, unanswered.
        conn = http.client.HTTPConnection("127.0.0.1", s.http_port, timeout=8)
        try:
            conn.request("GET", "/healthz")
            r = conn.getresponse()
            r.read()
            t0 = time.time()
            try:
                rest = conn.sock.recv(65536)
                closed = rest == b""
            except socket.timeout:
                rest, closed = b"", False
            except OSError:
                rest, closed = b"", True
            took = time.time() - t0
        finally:
            conn.close()
        check(f"an idle keep-alive connection is closed after idle_timeout 1s, with nothing sent ({took:.1f} s)",
              r.status == 200 and closed and rest == b"" and 0.8 <= took <= 4, f"{r.status} closed={closed} {rest[:60]!r}")
        m1 = s.metrics()
        for reason, want in (("header_too_large", 1), ("request_timeout", 1)):
            got = refused(m1, "http", reason) - refused(m0, "http", reason)
            check(f"sluice_listener_refused_total{{listener=http,reason={reason}}} grew by exactly {want}",
                  got == want, str(got))
        check("nothing of the refused request landed", count(rows("sec-limits-over")) == 0)
    finally:
        s.stop()


def test_max_connections():
    print("max_connections (4, raised to the floor of 16): the 17th HTTP connection gets 503 and is closed, "
          "the 17th gRPC connection is closed")
    s = Sluice("sec-maxconn", [logs_pipeline("sec-maxconn")],
               config={"http": {"max_connections": 4}, "grpc": {"max_connections": 4}}).start("sec-maxconn")
    held, channels = [], []
    try:
        wait_metric(s, "sluice_listener_connections", 0, listener="http")  # start()'s are gone
        m0 = s.metrics()
        held = [socket.create_connection(("127.0.0.1", s.http_port), timeout=10) for _ in range(16)]
        v = wait_metric(s, "sluice_listener_connections", 16, listener="http")
        check("16 idle HTTP connections held: sluice_listener_connections{listener=http} = 16", v == 16, str(v))
        st, raw, closed, _ = raw_answer(s.http_port, b"", timeout=5)
        check("the 17th is answered 503 with Retry-After: 1, then closed",
              st == 503 and b"\r\nretry-after: 1\r\n" in raw.lower() and closed, f"{st} closed={closed} {raw[:120]!r}")
        got = refused(s.metrics(), "http", "max_connections") - refused(m0, "http", "max_connections")
        check("sluice_listener_refused_total{listener=http,reason=max_connections} grew by exactly 1", got == 1, str(got))
        held.pop().close()
        st = harness.post_until("/v1/logs", logs_json("sec-maxconn-http", 2), H("sec-maxconn"), 200, port=s.http_port,
                                tries=50)
        check("with one closed, a request is served again and lands", st == 200 and
              wait_rows(rows("sec-maxconn-http"), 2), str(st))
        for c in held:
            c.close()
        held = []
        v = wait_metric(s, "sluice_listener_connections", 0, listener="http")
        check("all closed: sluice_listener_connections{listener=http} = 0", v == 0, str(v))

        # gRPC: 16 channels, each its own connection, kept open by a call each.
        md = (("x-glassflow-pipeline-id", "sec-maxconn"),)
        m0 = s.metrics()
        codes = []
        for i in range(16):
            c = grpc_channel(s.grpc_port)
            channels.append(c)
            codes.append(grpc_call(s.grpc_port, b"", method="/grpc.health.v1.Health/Check", channel=c)[0])
        check("16 gRPC connections served", codes == ["OK"] * 16, str(codes))
        v = wait_metric(s, "sluice_listener_connections", 16, listener="grpc")
        check("sluice_listener_connections{listener=grpc} = 16", v == 16, str(v))
        code, det = grpc_call(s.grpc_port, logs_pb("sec-maxconn-17", 1), md)
        check("the 17th gRPC connection is closed: UNAVAILABLE", code == "UNAVAILABLE", f"{code} {det}")
        got = refused(s.metrics(), "grpc", "max_connections") - refused(m0, "grpc", "max_connections")
        check("sluice_listener_refused_total{listener=grpc,reason=max_connections} grew by exactly 1", got == 1, str(got))
        code, det = grpc_call(s.grpc_port, logs_pb("sec-maxconn-old", 2), md, channel=channels[0])
        check("the connections already open still serve", code == "OK" and wait_rows(rows("sec-maxconn-old"), 2),
              f"{code} {det}")
        for c in channels:
            c.close()
        channels = []
        v = wait_metric(s, "sluice_listener_connections", 0, listener="grpc")
        check("all closed: sluice_listener_connections{listener=grpc} = 0", v == 0, str(v))
        code, det = grpc_call(s.grpc_port, logs_pb("sec-maxconn-grpc", 2), md)
        check("then a new gRPC connection is served and lands", code == "OK" and wait_rows(rows("sec-maxconn-grpc"), 2),
              f"{code} {det}")
        check("nothing of the refused call landed", count(rows("sec-maxconn-17")) == 0)
    finally:
        for c in held:
            c.close()
        for c in channels:
            c.close()
        s.stop()


def test_grpc_limits():
    print("gRPC limits: a TLS client that never handshakes is closed after handshake_timeout; "
          "metadata over max_header_bytes -> RESOURCE_EXHAUSTED")
    cfg = {"grpc": {"tls": server_tls(mtls=False), "handshake_timeout": "1s", "max_header_bytes": 8192}}
    s = Sluice("sec-grpc-limits", [logs_pipeline("sec-glimits")], config=cfg).start("sec-glimits")
    creds = grpc_creds()
    md = [("x-glassflow-pipeline-id", "sec-glimits")]
    try:
        m0 = s.metrics()
        st, raw, closed, took = raw_answer(s.grpc_port, b"", timeout=8)
        check(f"a TCP connection that sends nothing is closed after handshake_timeout 1s ({took:.1f} s)",
              closed and raw == b"" and 0.8 <= took <= 3, f"closed={closed} {raw[:40]!r}")
        # A ClientHello cut short, then silence: the same.
        hello = b"\x16\x03\x01\x00\xc8\x01\x00\x00\xc4\x03\x03" + b"\x00" * 20
        st, raw, closed, took = raw_answer(s.grpc_port, hello, timeout=8)
        check(f"a handshake begun and left is closed after handshake_timeout 1s ({took:.1f} s)",
              closed and 0.8 <= took <= 3, f"closed={closed} {raw[:40]!r}")
        m1 = s.metrics()
        got = refused(m1, "grpc", "handshake_timeout") - refused(m0, "grpc", "handshake_timeout")
        check("sluice_listener_refused_total{listener=grpc,reason=handshake_timeout} grew by exactly 2", got == 2, str(got))
        code, det = grpc_call(s.grpc_port, logs_pb("sec-glimits-under", 2), md + [("x-pad", "a" * 4000)], creds)
        check("4 KB of metadata under max_header_bytes 8192: OK", code == "OK" and
              wait_rows(rows("sec-glimits-under"), 2), f"{code} {det}")
        code, det = grpc_call(s.grpc_port, logs_pb("sec-glimits-over", 2), md + [("x-pad", "a" * 10000)], creds)
        check("10 KB of metadata over max_header_bytes 8192: RESOURCE_EXHAUSTED", code == "RESOURCE_EXHAUSTED",
              f"{code} {det}")
        m2 = s.metrics()
        got = refused(m2, "grpc", "header_too_large") - refused(m1, "grpc", "header_too_large")
        check("sluice_listener_refused_total{listener=grpc,reason=header_too_large} grew by exactly 1", got == 1, str(got))
        code, det = grpc_call(s.grpc_port, logs_pb("sec-glimits-after", 1), md, creds)
        check("the server serves on", code == "OK" and wait_rows(rows("sec-glimits-after"), 1), f"{code} {det}")
        check("nothing of the refused call landed", count(rows("sec-glimits-over")) == 0)
    finally:
        s.stop()


# ---------------------------------------------------------------- h. certificate rotation

class Sender(threading.Thread):
    """Sends requests of `n` records on a fresh connection each until stopped: over HTTPS
    (kind "http") or gRPC/TLS ("grpc"). Counts what was answered and what failed, and (HTTP)
    the certificates the connections were served."""

    def __init__(self, kind, port, run, n=5):
        super().__init__(daemon=True)
        self.kind, self.port, self.run_id, self.n = kind, port, run, n
        self.ok, self.failed, self.errors, self.served = 0, 0, [], {}
        self.stop_ = threading.Event()

    def run(self):
        ctx, creds = client_ctx(), grpc_creds() if self.kind == "grpc" else None
        while not self.stop_.is_set():
            if self.kind == "http":
                out = https_post(self.port, ctx, "/v1/logs", logs_json(self.run_id, self.n), H("sec-rotate"))
                good = out[0] == 200
                if good:
                    self.served[out[3]] = self.served.get(out[3], 0) + 1
            else:
                out = grpc_call(self.port, logs_pb(self.run_id, self.n), [("x-glassflow-pipeline-id", "sec-rotate")], creds)
                good = out[0] == "OK"
            if good:
                self.ok += 1
            else:
                self.failed += 1
                self.errors.append(str(out[:2]))
            time.sleep(0.02)

    def finish(self):
        self.stop_.set()
        self.join(timeout=30)


def wait_served(port, want_der, alpn=None, timeout=8):
    """Probes new connections until one is served `want_der`; returns whether it was."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = tls_probe(port, client_ctx(alpn=alpn), wait=0.2)
        if r[0] == "accepted" and r[1] == want_der:
            return True
        time.sleep(0.1)
    return False


def reloads(m, listener, result):
    return metric(m, "sluice_tls_reloads_total", listener=listener, result=result)


def rotatable_files(name):
    """The server certificate and key copied into a directory of their own under DATA, for a
    test to replace: their paths."""
    p = pki()
    d = os.path.join(harness.DATA, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    cert, key = os.path.join(d, "server.pem"), os.path.join(d, "server.key")
    certs.install(p["server_cert"], p["server_key"], cert, key)
    return cert, key


def test_rotation_under_load():
    print("certificate rotation under load (reload_interval 1s): no request fails, new connections get the "
          "new certificate, open ones keep theirs, a mismatched pair is refused")
    p = pki()
    cert, key = rotatable_files("sec-rotate-tls")
    tls = {"cert_file": cert, "key_file": key, "reload_interval": "1s"}
    s = Sluice("sec-rotate", [logs_pipeline("sec-rotate")], config={"http": {"tls": tls}, "grpc": {"tls": tls}},
               client_tls={"http": client_ctx()}).start("sec-rotate")
    old, new = certs.der(p["server_cert"]), certs.der(p["server2_cert"])
    senders = []
    try:
        # A keep-alive HTTPS connection and a gRPC channel opened before the swap.
        keep = http.client.HTTPSConnection("127.0.0.1", s.http_port, timeout=15, context=client_ctx())
        st, _, _ = post("/v1/logs", logs_json("sec-rotate-keep", 1), H("sec-rotate"), conn=keep)
        check("a keep-alive connection before the swap: 200", st == 200, str(st))
        chan = grpc_channel(s.grpc_port, grpc_creds())
        md = [("x-glassflow-pipeline-id", "sec-rotate")]
        code, det = grpc_call(s.grpc_port, logs_pb("sec-rotate-chan", 1), md, channel=chan)
        check("a gRPC channel before the swap: OK", code == "OK", f"{code} {det}")
        m0 = s.metrics()
        senders = [Sender("http", s.http_port, "sec-rotate-http"), Sender("grpc", s.grpc_port, "sec-rotate-grpc")]
        for x in senders:
            x.start()
        time.sleep(3)
        certs.install(p["server2_cert"], p["server2_key"], cert, key)
        t_swap = time.time()
        http_new = wait_served(s.http_port, new)
        grpc_new = wait_served(s.grpc_port, new, alpn=["h2"])
        took = time.time() - t_swap
        check(f"HTTPS: new connections get the new certificate ({took:.1f} s after the swap)", http_new)
        check("gRPC: new connections get the new certificate (ALPN h2)", grpc_new)
        time.sleep(3)
        for x in senders:
            x.finish()
        h, g = senders
        check(f"HTTPS under load: no request failed ({h.ok} answered 200)", h.failed == 0 and h.ok > 0,
              f"{h.failed} failed: {h.errors[:3]}")
        check(f"gRPC under load: no call failed ({g.ok} OK)", g.failed == 0 and g.ok > 0,
              f"{g.failed} failed: {g.errors[:3]}")
        check("the HTTPS sender's connections were served both certificates",
              set(h.served) == {old, new}, f"{ {k == old: v for k, v in h.served.items()} }")
        check(f"HTTPS: exactly {h.ok * 5} rows", wait_rows(rows("sec-rotate-http"), h.ok * 5, 30))
        check(f"gRPC: exactly {g.ok * 5} rows", wait_rows(rows("sec-rotate-grpc"), g.ok * 5, 30))
        st, _, _ = post("/v1/logs", logs_json("sec-rotate-keep", 1), H("sec-rotate"), conn=keep)
        check("the keep-alive connection opened before the swap still serves, with the old certificate",
              st == 200 and keep.sock.getpeercert(True) == old, str(st))
        keep.close()
        code, det = grpc_call(s.grpc_port, logs_pb("sec-rotate-chan", 1), md, channel=chan)
        check("the gRPC channel opened before the swap still serves", code == "OK", f"{code} {det}")
        check("keep-alive and channel: 2 rows each", wait_rows(rows("sec-rotate-keep"), 2) and
              wait_rows(rows("sec-rotate-chan"), 2))
        m1 = s.metrics()
        for listener in ("http", "grpc"):
            check(f"sluice_tls_reloads_total{{listener={listener},result=ok}} grew",
                  reloads(m1, listener, "ok") > reloads(m0, listener, "ok"))
            check(f"sluice_tls_reloads_total{{listener={listener},result=failed}} did not",
                  reloads(m1, listener, "failed") == reloads(m0, listener, "failed"))
            check(f"sluice_tls_certificate_not_after_seconds{{listener={listener}}} is now server2.pem's",
                  metric(m1, "sluice_tls_certificate_not_after_seconds", listener=listener) ==
                  certs.not_after(p["server2_cert"]))

        # A mismatched pair (server2's certificate with the client's key): refused, the
        # current certificate keeps serving.
        certs.install(p["server2_cert"], p["client_key"], cert, key)
        deadline = time.time() + 8
        while time.time() < deadline and not all(
                reloads(s.metrics(), x, "failed") > reloads(m1, x, "failed") for x in ("http", "grpc")):
            time.sleep(0.2)
        m2 = s.metrics()
        for listener in ("http", "grpc"):
            check(f"mismatched pair: sluice_tls_reloads_total{{listener={listener},result=failed}} grew",
                  reloads(m2, listener, "failed") > reloads(m1, listener, "failed"))
        r = tls_probe(s.http_port, client_ctx())
        check("mismatched pair: HTTPS still serves server2.pem", r[0] == "accepted" and r[1] == new, str(r[:2]))
        r = tls_probe(s.grpc_port, client_ctx(alpn=["h2"]))
        check("mismatched pair: gRPC still serves server2.pem", r[0] == "accepted" and r[1] == new, str(r[:2]))
        sts = [s.post("/v1/logs", logs_json("sec-rotate-mismatch", 2), H("sec-rotate"))[0] for _ in range(3)]
        code, det = grpc_call(s.grpc_port, logs_pb("sec-rotate-mismatch", 2), md, grpc_creds())
        check("mismatched pair: requests still succeed", sts == [200] * 3 and code == "OK", f"{sts} {code} {det}")
        check("...and land", wait_rows(rows("sec-rotate-mismatch"), 8))
        # A good pair again: taken.
        certs.install(p["server_cert"], p["server_key"], cert, key)
        check("a good pair after the broken one is taken (HTTPS)", wait_served(s.http_port, old))
        check("...and gRPC", wait_served(s.grpc_port, old, alpn=["h2"]))
        chan.close()
    finally:
        for x in senders:
            x.stop_.set()
        s.stop()


def test_rotation_on_sighup():
    print("reload_interval 0s: certificate files are read again only on SIGHUP")
    p = pki()
    cert, key = rotatable_files("sec-sighup-tls")
    s = Sluice("sec-sighup", [logs_pipeline("sec-sighup")],
               config={"http": {"tls": {"cert_file": cert, "key_file": key, "reload_interval": "0s"}}},
               client_tls={"http": client_ctx()}).start("sec-sighup")
    old, new = certs.der(p["server_cert"]), certs.der(p["server2_cert"])
    try:
        certs.install(p["server2_cert"], p["server2_key"], cert, key)
        time.sleep(2.5)
        r = tls_probe(s.http_port, client_ctx())
        check("2.5 s after the swap, without SIGHUP: still the old certificate", r[0] == "accepted" and r[1] == old,
              str(r[:2]))
        s.proc.send_signal(signal.SIGHUP)
        check("after SIGHUP: the new one", wait_served(s.http_port, new, timeout=5))
        st = s.post("/v1/logs", logs_json("sec-sighup", 2), H("sec-sighup"))[0]
        check("requests land after the reload", st == 200 and wait_rows(rows("sec-sighup"), 2), str(st))
    finally:
        s.stop()


def run_all():
    pki()
    harness.run_tests(test_https_mtls, test_tls_versions_and_ciphers, test_grpc_mtls, test_js_exporters_tls,
                      test_grpc_go_tls,
                      test_python_sdk_tls, test_auth, test_admin_token, test_admin_exposed, test_http_limits,
                      test_max_connections, test_grpc_limits, test_rotation_under_load, test_rotation_on_sighup)
