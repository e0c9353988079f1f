// Sends OTLP with the OpenTelemetry JS SDK exporters, the way an instrumented service does.
// usage: node send.mjs --signal logs|traces|metrics --protocol http/json|http/protobuf|grpc
//                      [--gzip] --count N --run RUN --pipeline ID --http URL --grpc URL
//                      [--ca FILE [--cert FILE --key FILE]] [--token TOKEN] [--timeout MS]
//                      [--header NAME=VALUE]...
// TLS: with --ca the URLs are https:// ones; gRPC gets @grpc/grpc-js's
// credentials.createSsl(ca, key, cert), HTTP the exporter's httpAgentOptions {ca, cert, key}.
// --token is sent as `Authorization: Bearer TOKEN` (an HTTP header, gRPC metadata), and each
// --header likewise. --timeout bounds the export, retries included (default 10000).
// Prints one JSON line {"ok":bool,"code":...,"error":...} and exits 0 when the export
// succeeded, 1 otherwise.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
const require = createRequire(import.meta.url);
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { Metadata, credentials } = require('@grpc/grpc-js');

const pairs = process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1] && !all[i + 1].startsWith('--') ? all[i + 1] : true]);
  return acc;
}, []);
const args = Object.fromEntries(pairs);
const extraHeaders = pairs.filter(([k]) => k === 'header').map(([, v]) => {
  const eq = String(v).indexOf('=');
  return [String(v).slice(0, eq), String(v).slice(eq + 1)];
});
if (args.token !== undefined) extraHeaders.push(['authorization', `Bearer ${args.token === true ? '' : args.token}`]);
const timeoutMillis = Number(args.timeout || 10000);
const tlsFiles = {
  ca: args.ca ? readFileSync(args.ca) : undefined,
  cert: args.cert ? readFileSync(args.cert) : undefined,
  key: args.key ? readFileSync(args.key) : undefined,
};
const signal = args.signal, protocol = args.protocol, count = Number(args.count || 1);
const run = String(args.run), pipeline = args.pipeline;
const compression = args.gzip ? 'gzip' : 'none';
const kind = { 'http/json': 'http', 'http/protobuf': 'proto', 'grpc': 'grpc' }[protocol];
const exporterPkg = { logs: 'logs', traces: 'trace', metrics: 'metrics' }[signal];
const pkg = require(`@opentelemetry/exporter-${exporterPkg}-otlp-${kind}`);
const path = { logs: '/v1/logs', traces: '/v1/traces', metrics: '/v1/metrics' }[signal];

function exporterConfig() {
  if (kind === 'grpc') {
    const md = new Metadata();
    md.set('x-glassflow-pipeline-id', pipeline);
    for (const [k, v] of extraHeaders) md.set(k, v);
    const config = { url: args.grpc, metadata: md, compression, timeoutMillis };
    if (tlsFiles.ca) config.credentials = credentials.createSsl(tlsFiles.ca, tlsFiles.key || null, tlsFiles.cert || null);
    return config;
  }
  const headers = { 'x-glassflow-pipeline-id': pipeline, ...Object.fromEntries(extraHeaders) };
  const config = { url: args.http + path, headers, compression, timeoutMillis };
  if (tlsFiles.ca) config.httpAgentOptions = { ca: tlsFiles.ca, cert: tlsFiles.cert, key: tlsFiles.key, keepAlive: true };
  return config;
}

const resource = resourceFromAttributes({
  'service.name': 'js-sender', 'service.version': '1.2.3', 'test.run': run, 'test.protocol': protocol,
});

function exportDirect(exporter, items) {
  return new Promise((resolve) => exporter.export(items, (r) => resolve(r)));
}

async function main() {
  let result;
  if (signal === 'logs') {
    const { LoggerProvider, SimpleLogRecordProcessor, InMemoryLogRecordExporter } = require('@opentelemetry/sdk-logs');
    // Build the records with the SDK, then export them in one request with the exporter.
    const memory = new InMemoryLogRecordExporter();
    const provider = new LoggerProvider({ resource, processors: [new SimpleLogRecordProcessor({ exporter: memory })] });
    const logger = provider.getLogger('sluice-e2e', '0.9.0');
    for (let i = 0; i < count; i++) {
      logger.emit({
        timestamp: [1717171717 + i, 123456789],
        severityNumber: 9, severityText: 'INFO',
        body: `run=${run} seq=${i}`,
        attributes: { seq: i, 'test.run': run, ok: true, ratio: 0.5 },
        eventName: 'e2e.event',
      });
    }
    await provider.forceFlush();
    result = await exportDirect(new pkg.OTLPLogExporter(exporterConfig()), memory.getFinishedLogRecords());
  } else if (signal === 'traces') {
    const { BasicTracerProvider, SimpleSpanProcessor, InMemorySpanExporter } = require('@opentelemetry/sdk-trace-base');
    const memory = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor(memory)] });
    const tracer = provider.getTracer('sluice-e2e', '0.9.0');
    for (let i = 0; i < count; i++) {
      const span = tracer.startSpan(`op-${i}`, { kind: 1, attributes: { seq: i, 'test.run': run }, startTime: [1717171717 + i, 0] });
      span.addEvent('checkpoint', { step: 1 }, [1717171717 + i, 500]);
      span.setStatus({ code: 2, message: 'boom' });
      span.end([1717171717 + i, 250000000]);
    }
    await provider.forceFlush();
    result = await exportDirect(new pkg.OTLPTraceExporter(exporterConfig()), memory.getFinishedSpans());
  } else {
    const { MeterProvider, PeriodicExportingMetricReader, AggregationTemporality } = require('@opentelemetry/sdk-metrics');
    const exporter = new pkg.OTLPMetricExporter({ ...exporterConfig(), temporalityPreference: AggregationTemporality.CUMULATIVE });
    const results = [];
    // Export once: the SDK exports again on shutdown, which would send the points twice.
    const wrapped = { ...exporter, export: (m, cb) => results.length
        ? cb({ code: 0 }) : exporter.export(m, (r) => { results.push(r); cb(r); }),
      forceFlush: () => exporter.forceFlush(), shutdown: () => exporter.shutdown(),
      selectAggregationTemporality: (k) => exporter.selectAggregationTemporality(k),
      selectAggregation: exporter.selectAggregation ? (k) => exporter.selectAggregation(k) : undefined };
    const reader = new PeriodicExportingMetricReader({ exporter: wrapped, exportIntervalMillis: 3600000 });
    const provider = new MeterProvider({ resource, readers: [reader] });
    const meter = provider.getMeter('sluice-e2e', '0.9.0');
    const counter = meter.createCounter('e2e.requests', { description: 'requests', unit: '1' });
    const hist = meter.createHistogram('e2e.latency', { unit: 'ms' });
    for (let i = 0; i < count; i++) {
      counter.add(1, { 'test.run': run, series: String(i) });
      hist.record(i + 0.5, { 'test.run': run });
    }
    await reader.forceFlush();
    result = results[0] || { code: 1, error: new Error('no export happened') };
    await provider.shutdown().catch(() => {});
  }
  const ok = result.code === 0;
  console.log(JSON.stringify({ ok, code: result.code, error: result.error ? String(result.error.message || result.error) : null }));
  process.exit(ok ? 0 : 1);
}

main().catch((e) => { console.log(JSON.stringify({ ok: false, error: String(e && e.stack || e) })); process.exit(1); });
