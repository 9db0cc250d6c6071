// A host process for the "no tracer provider, no API loaded" test: it creates a gateway (from the
// built package), delivers one event to a local function and one to an HTTP function, and prints
// which @opentelemetry modules were loaded and the traceparent the HTTP function received.
// `register`: it starts the OpenTelemetry SDK first (the contrast: then the API is loaded).
const { createServer } = require('node:http');
const [mode] = process.argv.slice(2);

(async () => {
  if (mode === 'register') {
    const { trace } = require('@opentelemetry/api');
    const { BasicTracerProvider } = require('@opentelemetry/sdk-trace-base');
    trace.setGlobalTracerProvider(new BasicTracerProvider());
  }
  const { createGateway } = require('../../dist');
  let received;
  const server = createServer((req, res) => {
    received = req.headers.traceparent ?? null;
    req.resume().on('end', () => res.end('{}'));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const gateway = createGateway(undefined, { resyncInterval: 0 });
  await gateway.registerFunction({ functionId: 'local', handler: () => undefined });
  await gateway.registerFunction({
    functionId: 'remote',
    type: 'http',
    provider: { url: `http://127.0.0.1:${server.address().port}/` },
  });
  await gateway.createEventType({ name: 'e' });
  await gateway.subscribe({ eventType: 'e', functionId: 'local' });
  await gateway.subscribe({ eventType: 'e', functionId: 'remote' });
  const { outcomes } = await gateway.emit(
    { specversion: '1.0', id: '1', source: '/t', type: 'e' },
    { wait: true },
  );
  await gateway.close();
  server.close();
  const loaded = Object.keys(require.cache).filter((file) => file.includes('@opentelemetry'));
  process.stdout.write(
    JSON.stringify({
      delivered: outcomes.filter((o) => o.ok).length,
      apiLoaded: loaded.some((file) => /@opentelemetry[/\\]api[/\\]/.test(file)),
      traceparent: received,
    }),
  );
})().catch((error) => {
  process.stderr.write(String(error && error.stack));
  process.exit(1);
});
