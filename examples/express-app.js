// An Express 5 app embedding the gateway: `node examples/express-app.js`, then
//   curl localhost:3000/events/hello/Ada
//   curl -X POST localhost:3000/events/ -H 'content-type: application/cloudevents+json' \
//     -d '{"specversion":"1.0","id":"1","source":"/cli","type":"user.created","data":{"name":"Ada"}}'
const express = require('express');
const { createGateway, expressMiddleware } = require('..');

async function main() {
  const gateway = createGateway();
  await gateway.registerFunction({
    functionId: 'hello',
    handler: (event) => ({ statusCode: 200, body: `Hello, ${event.data.params.name}!` }),
  });
  await gateway.subscribe({
    type: 'sync',
    eventType: 'http.request',
    functionId: 'hello',
    method: 'GET',
    path: '/hello/:name',
  });
  await gateway.registerFunction({
    functionId: 'welcome',
    handler: (event) => console.log(`welcome event for ${event.data.name}`),
  });
  await gateway.createEventType({ name: 'user.created' });
  await gateway.subscribe({ eventType: 'user.created', functionId: 'welcome' });

  const app = express();
  app.get('/', (_req, res) => res.send('The app itself; the gateway is under /events.'));
  app.use('/events', expressMiddleware(gateway));
  const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
    console.log(`Express app listening on http://127.0.0.1:${server.address().port}`);
  });
  process.once('SIGTERM', async () => {
    server.close();
    await gateway.close();
  });
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
