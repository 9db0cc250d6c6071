// A host process for the OTLP/HTTP test (the exporter loads its transport with a dynamic import,
// which jest's module system does not run): a gateway from the built package traced through the
// `tracing` option with an OTLP/HTTP exporter sending to the collector URL given, one event to an
// HTTP function. Prints the traceparent the function received.
const { createServer } = require('node:http');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http');
const { BasicTracerProvider, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { createGateway } = require('../../dist');

const [url] = process.argv.slice(2);

(async () => {
  let received;
  const server = createServer((req, res) => {
    received = req.headers.traceparent;
    req
      .resume()
      .on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const provider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url }))],
  });
  const gateway = createGateway(undefined, {
    resyncInterval: 0,
    tracing: { tracerProvider: provider },
  });
  await gateway.registerFunction({
    functionId: 'fn',
    type: 'http',
    provider: { url: `http://127.0.0.1:${server.address().port}/` },
  });
  await gateway.createEventType({ name: 'order.placed' });
  await gateway.subscribe({ eventType: 'order.placed', functionId: 'fn' });
  await gateway.emit(
    { specversion: '1.0', id: 'otlp-1', source: '/t', type: 'order.placed', data: { amount: 1 } },
    { wait: true },
  );
  await gateway.close();
  await provider.forceFlush();
  await provider.shutdown();
  server.close();
  process.stdout.write(JSON.stringify({ traceparent: received }));
})().catch((error) => {
  process.stderr.write(String(error && error.stack));
  process.exit(1);
});
