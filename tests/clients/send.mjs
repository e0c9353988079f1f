// Sends OTLP with the OpenTelemetry JS SDK exporters, the way an instrumented service does.
// usage: node send.mjs --signal logs|traces|metrics --protocol http/json|http/protobuf|grpc
//                      [--gzip] --count N --run RUN --pipeline ID --http URL --grpc URL
// Prints one JSON line {"ok":bool,"code":...,"error":...} and exits 0 when the export
// succeeded, 1 otherwise.
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { Metadata } = require('@grpc/grpc-js');

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1] && !all[i + 1].startsWith('--') ? all[i + 1] : true]);
  return acc;
}, []));
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
    return { url: args.grpc, metadata: md, compression, timeoutMillis: 10000 };
  }
  return { url: args.http + path, headers: { 'x-glassflow-pipeline-id': pipeline }, compression, timeoutMillis: 10000 };
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
