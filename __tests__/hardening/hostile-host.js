// A host process provoked every way that used to end it: run by host-process.test.ts as a real
// child process, with Node's default handling of unhandled rejections (the process exits).
const { createServer } = require('node:http');
const express = require('express');
const { createGateway, createEventsHandler, expressMiddleware } = require('../../dist');

async function main() {
  const gateway = createGateway(undefined, { retry: { maxAttempts: 1 } });
  await gateway.ready();
  const fns = {
    crlf: () => ({ headers: { location: '/x\r\nset-cookie: evil=1' }, body: 'moved' }),
    spacename: () => ({ headers: { 'bad name': 'v' }, body: 'x' }),
    nullproto: () => Promise.reject(Object.create(null)),
  };
  for (const [id, handler] of Object.entries(fns)) {
    await gateway.registerFunction({ functionId: id, handler });
    await gateway.subscribe({
      type: 'sync',
      eventType: 'http.request',
      functionId: id,
      method: 'GET',
      path: `/${id}`,
    });
  }
  await gateway.createEventType({ name: 'user.created' });
  await gateway.subscribe({ eventType: 'user.created', functionId: 'nullproto' });
  // A listener that throws, with nobody listening to gateway.error: a warning, not a crash.
  gateway.on('function.invocationFailed', () => {
    throw new Error('listener bug');
  });

  const plain = createServer(createEventsHandler(gateway));
  const app = express();
  app.use('/events', expressMiddleware(gateway));
  const viaExpress = createServer(app);
  const results = {};
  for (const [name, server, prefix] of [
    ['node', plain, ''],
    ['express', viaExpress, '/events'],
  ]) {
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${server.address().port}${prefix}`;
    for (const id of ['crlf', 'spacename', 'nullproto']) {
      const res = await fetch(`${base}/${id}`);
      results[`${name} ${id}`] = [res.status, res.headers.get('set-cookie'), await res.text()];
    }
    server.closeAllConnections();
    server.close();
  }
  const invoked = await gateway.invoke({ functionId: 'nullproto' }).then(
    () => 'resolved',
    (error) => `rejected ${error.code}`,
  );
  const emitted = await gateway.emit(
    { specversion: '1.0', id: '1', source: '/s', type: 'user.created' },
    { wait: true },
  );
  await gateway.close();
  console.log(JSON.stringify({ results, invoked, outcome: emitted.outcomes[0].ok }));
}

main().catch((error) => {
  console.error('main failed', error);
  process.exit(3);
});
