// The spans of an event reach an OpenTelemetry collector: a host process (otlp-child.js) traced
// with the OTLP/HTTP exporter sends them, as OTLP JSON (the exporter's default encoding), to a
// receiver this test starts on loopback, which decodes one trace. The tracer provider is given in
// the `tracing` option (none is registered globally).
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** An OTLP span as OTLP JSON encodes it (IDs in hex, attributes as typed values). */
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: { key: string; value: { stringValue?: string; intValue?: number | string } }[];
}
interface OtlpRequest {
  resourceSpans: { scopeSpans: { scope: { name: string }; spans: OtlpSpan[] }[] }[];
}

test('the OTLP/HTTP exporter delivers the acceptance and attempt spans of one trace to a collector', async () => {
  const received: { contentType: string | undefined; body: string }[] = [];
  const collector = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      if (req.url === '/v1/traces')
        received.push({ contentType: req.headers['content-type'], body });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(__dirname, 'otlp-child.js'), url],
      { timeout: 30_000 },
    );
    const { traceparent } = JSON.parse(stdout) as { traceparent: string };
    expect(received.length).toBeGreaterThan(0);
    for (const request of received) expect(request.contentType).toMatch(/^application\/json/);
    const spans = received.flatMap(({ body }) =>
      (JSON.parse(body) as OtlpRequest).resourceSpans.flatMap((r) =>
        r.scopeSpans.filter((s) => s.scope.name === 'event-gateway').flatMap((s) => s.spans),
      ),
    );
    expect(spans.map((s) => s.name).sort()).toEqual(['accept', 'deliver fn']);
    const accept = spans.find((s) => s.name === 'accept') as OtlpSpan;
    const deliver = spans.find((s) => s.name === 'deliver fn') as OtlpSpan;
    expect(accept.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(deliver.traceId).toBe(accept.traceId);
    expect(deliver.parentSpanId).toBe(accept.spanId);
    const attribute = (span: OtlpSpan, key: string) =>
      span.attributes.find((a) => a.key === key)?.value;
    expect(attribute(accept, 'cloudevents.event_id')).toEqual({ stringValue: 'otlp-1' });
    expect(attribute(deliver, 'messaging.destination.name')).toEqual({ stringValue: 'fn' });
    expect(Number(attribute(deliver, 'http.response.status_code')?.intValue)).toBe(200);
    // The function got the traceparent of the attempt span the collector holds.
    expect(traceparent).toBe(`00-${deliver.traceId}-${deliver.spanId}-01`);
  } finally {
    collector.closeAllConnections();
    await new Promise<void>((resolve) => collector.close(() => resolve()));
  }
});
