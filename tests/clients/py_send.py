"""Sends logs with the OpenTelemetry Python SDK's OTLP exporters, the way an instrumented
Python service does. Runs with the interpreter of the venv scripts/install-deps makes
($ROOT/.deps/pyotel: opentelemetry-sdk and the OTLP exporters, pinned), not the system one.

usage: py_send.py --protocol http|grpc --endpoint URL --pipeline ID --run RUN [--count N]
                  [--ca FILE [--cert FILE --key FILE]] [--token TOKEN] [--timeout SECONDS]

http: opentelemetry.exporter.otlp.proto.http._log_exporter.OTLPLogExporter, endpoint the
full URL (https://127.0.0.1:4318/v1/logs); certificate_file / client_certificate_file /
client_key_file for TLS. grpc: opentelemetry.exporter.otlp.proto.grpc._log_exporter's, with
grpc.ssl_channel_credentials(ca, key, cert); endpoint https://127.0.0.1:4317.
The records are made by the SDK's LoggerProvider and exported in one request. Prints one
JSON line {"ok": bool, "result": "SUCCESS"|"FAILURE"|..., "error": ...}; exits 0 on success.
"""
import argparse
import json
import logging
import os
import sys

# requests (under the HTTP exporter) lets these variables override the session's CA file,
# so the exporter's certificate_file would be ignored where they are set.
for _v in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
    os.environ.pop(_v, None)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--protocol", choices=("http", "grpc"), default="http")
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--pipeline", required=True)
    ap.add_argument("--run", required=True)
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--ca")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--token")
    ap.add_argument("--timeout", type=float, default=10)
    a = ap.parse_args()

    # The exporters log why an export failed: collect it for the report.
    errors = []

    class Collect(logging.Handler):
        def emit(self, record):
            errors.append(record.getMessage())

    logging.getLogger("opentelemetry").addHandler(Collect())

    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
    from opentelemetry.sdk.resources import Resource

    headers = {"x-glassflow-pipeline-id": a.pipeline}
    if a.token is not None:
        headers["authorization"] = f"Bearer {a.token}"
    if a.protocol == "http":
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
        exporter = OTLPLogExporter(endpoint=a.endpoint, certificate_file=a.ca, client_key_file=a.key,
                                   client_certificate_file=a.cert, headers=headers, timeout=a.timeout)
    else:
        import grpc
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
        read = lambda p: open(p, "rb").read() if p else None  # noqa: E731
        creds = grpc.ssl_channel_credentials(read(a.ca), read(a.key), read(a.cert)) if a.ca else None
        exporter = OTLPLogExporter(endpoint=a.endpoint, insecure=a.ca is None, credentials=creds,
                                   headers=headers, timeout=a.timeout)

    memory = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=Resource.create({"service.name": "py-sender", "test.run": a.run}),
                              shutdown_on_exit=False)
    provider.add_log_record_processor(SimpleLogRecordProcessor(memory))
    logger = provider.get_logger("sluice-e2e-py", "0.9.0")
    from opentelemetry._logs import SeverityNumber
    for i in range(a.count):
        logger.emit(timestamp=1717171717000000000 + i, severity_number=SeverityNumber.INFO, severity_text="INFO",
                    body=f"run={a.run} seq={i}", attributes={"seq": i, "test.run": a.run})
    records = memory.get_finished_logs()
    try:
        result = exporter.export(records)
        name = getattr(result, "name", str(result))
    except Exception as e:  # a client-side failure is a failed export too
        name, errors = "EXCEPTION", errors + [repr(e)]
    finally:
        try:
            exporter.shutdown()
        except Exception:
            pass
    ok = name == "SUCCESS" and len(records) == a.count
    print(json.dumps({"ok": ok, "result": name, "records": len(records), "error": "; ".join(errors)[-500:] or None}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
