// A Koa 3 app embedding the gateway: `node examples/koa-app.js`, then
//   curl localhost:3000/events/hello/Ada
const Koa = require('koa');
const { createGateway, koaMiddleware } = require('..');

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

  const app = new Koa();
  const events = koaMiddleware(gateway, { basePath: '/events' });
  app.use(async (ctx, next) => {
    if (ctx.path === '/events' || ctx.path.startsWith('/events/')) return events(ctx, next);
    ctx.body = 'The app itself; the gateway is under /events.';
  });
  const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
    console.log(`Koa app listening on http://127.0.0.1:${server.address().port}`);
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
