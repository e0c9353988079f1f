"""A recording HTTP proxy in front of ClickHouse, for the end-to-end tests.

Forwards every request to the real server and keeps, for each INSERT, the query
parameters, the exact body bytes and ClickHouse's answer, so a test can check what Sluice
sent (for instance that a batch replayed after a crash has the same rows as the original).

With `pose_as`, the proxy answers `SELECT version()` with that version, so Sluice sends
what it sends to a current server (insert_deduplication_token); the proxy records the
token and removes it before forwarding, since the 18.16 server behind it has no such
setting. Everything else (schema, rows, errors) is the real server's.

With `dedupe_tokens` (and `pose_as`), an INSERT whose token an earlier successful INSERT
carried is answered 200 without reaching ClickHouse: what a current server does with
insert_deduplication_token (Replicated tables, or non_replicated_deduplication_window),
so a replayed batch lands once, as it would there.

With `answer_delay`, the answer to an INSERT is held back that long after ClickHouse gave
it: the rows are in ClickHouse but Sluice does not know yet, as after a slow network, so a
crash at that moment must replay the batch.
"""
import http.client
import http.server
import threading
import time
import urllib.parse


class InsertRecorder:
    def __init__(self, listen_port, upstream_port, pose_as=None, answer_delay=0.0, dedupe_tokens=False):
        self.inserts = []  # (params dict, body bytes, status), in the order answered
        self.tokens = set()  # tokens of successful INSERTs (dedupe_tokens)
        self.deduplicated = 0
        self.lock = threading.Lock()
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def forward(self):
                try:
                    self.relay()
                except OSError:  # the client went away (Sluice was killed): nothing to answer
                    self.close_connection = True

            def relay(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                split = urllib.parse.urlsplit(self.path)
                params = dict(urllib.parse.parse_qsl(split.query))
                if pose_as and body.strip() == b"SELECT version()":
                    answer = (pose_as + "\n").encode()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                    return
                path = self.path
                token = params.get("insert_deduplication_token")
                if dedupe_tokens and token:
                    with recorder.lock:
                        seen = token in recorder.tokens
                        if seen:
                            recorder.deduplicated += 1
                    if seen:
                        self.send_response(200)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                if pose_as and "insert_deduplication_token" in params:
                    rest = [(k, v) for k, v in urllib.parse.parse_qsl(split.query)
                            if k != "insert_deduplication_token"]
                    path = split.path + "?" + urllib.parse.urlencode(rest)
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("host", "connection", "content-length")}
                up = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=60)
                up.request(self.command, path, body=body, headers=headers)
                r = up.getresponse()
                data = r.read()
                if params.get("query", "").lstrip().upper().startswith("INSERT"):
                    with recorder.lock:
                        recorder.inserts.append((params, body, r.status))
                        if dedupe_tokens and token and r.status == 200:
                            recorder.tokens.add(token)
                    time.sleep(answer_delay)
                self.send_response(r.status)
                for k, v in r.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                up.close()

            do_GET = forward
            do_POST = forward

        class Server(http.server.ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # a client killed mid-request (the tests kill Sluice on purpose)

        self.server = Server(("127.0.0.1", listen_port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def snapshot(self):
        with self.lock:
            return list(self.inserts)
