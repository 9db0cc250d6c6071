// The quick-start demo (`npm start`): a gateway on the in-memory store, configured the way an
// app would configure it, with a second instance over the same store to show what is shared.
const { inspect } = require('node:util');
const { createGateway, MemoryStore, GatewayError } = require('..');

async function main() {
  const store = new MemoryStore();
  const gateway = createGateway(store);

  // Functions: a handler in this process, and an HTTP endpoint.
  await gateway.registerFunction({
    functionId: 'welcome-email',
    handler: async (event) => ({ sent: true, to: event.data.email }),
  });
  await gateway.registerFunction({
    functionId: 'users-api',
    type: 'http',
    provider: { url: 'http://localhost:3000/users', timeout: 5000 },
  });

  // An event type, an async subscription (fan-out) and a sync one (answers HTTP requests).
  await gateway.createEventType({ name: 'user.created' });
  const onCreated = await gateway.subscribe({
    eventType: 'user.created',
    functionId: 'welcome-email',
  });
  await gateway.subscribe({
    type: 'sync',
    eventType: 'http.request',
    functionId: 'users-api',
    method: 'GET',
    path: '/users/:id',
  });
  await gateway.createCors({
    method: 'GET',
    path: '/users/:id',
    allowedOrigins: ['https://app.example'],
  });

  console.log('Configured:', inspect(gateway));
  console.log('Subscription IDs are Event Gateway 0.9 IDs:', onCreated.subscriptionId);
  for (const sub of gateway.listSubscriptions()) {
    console.log(
      `  ${sub.type.padEnd(5)} ${sub.method} ${sub.path} ${sub.eventType} -> ${sub.functionId}`,
    );
  }

  // Bad or conflicting writes are refused with typed errors and change nothing.
  for (const attempt of [
    () => gateway.deleteFunction({ functionId: 'welcome-email' }),
    () =>
      gateway.subscribe({
        type: 'sync',
        eventType: 'http.request',
        functionId: 'users-api',
        method: 'GET',
        path: '/users/:name',
      }),
    () =>
      gateway.registerFunction({
        functionId: 'broken',
        type: 'http',
        provider: { url: 'not-a-url' },
      }),
  ]) {
    try {
      await attempt();
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error;
      console.log(`Refused (${error.code}, HTTP ${error.status}): ${error.message}`);
    }
  }

  // Another instance over the same store (another process, with etcd) sees the same configuration.
  const other = createGateway(store);
  await other.ready();
  console.log('Second instance:', inspect(other));

  // Emit an event: delivered to every async subscriber; `wait` resolves with the outcomes.
  gateway.on('function.invoked', ({ functionId, result }) =>
    console.log(`${functionId} answered ${inspect(result)}`),
  );
  const event = {
    specversion: '1.0',
    id: 'evt-1',
    source: '/signup',
    type: 'user.created',
    data: { email: 'ada@example.com' },
  };
  const { outcomes } = await gateway.emit(event, { wait: true });
  console.log(
    'Outcomes:',
    outcomes.map((o) => `${o.functionId}: ${o.ok ? 'ok' : o.error.message}`),
  );

  // A function nobody serves: retried with backoff, then dead-lettered, never dropped silently.
  await gateway.registerFunction({
    functionId: 'users-sync',
    type: 'http',
    provider: { url: 'http://127.0.0.1:9/unreachable' },
    retry: { maxAttempts: 2, initialDelay: 50 },
  });
  await gateway.subscribe({ eventType: 'user.created', functionId: 'users-sync' });
  gateway.on('function.invocationFailed', ({ functionId, reason, attempts }) =>
    console.log(`Dead letter: ${functionId} after ${attempts} attempts: ${reason}`),
  );
  await gateway.emit({ ...event, id: 'evt-2' }, { wait: true });
  const { deliveriesAccepted, deliveriesSucceeded, deliveriesRetried, deliveriesDeadLettered } =
    gateway.metrics();
  console.log('Metrics:', {
    deliveriesAccepted,
    deliveriesSucceeded,
    deliveriesRetried,
    deliveriesDeadLettered,
  });

  await Promise.all([gateway.close(), other.close()]);
  console.log(
    'Next: node examples/express-app.js or examples/koa-app.js (the Events API in an app), and ' +
      'EtcdStore for many instances (README: "Production: etcd").',
  );
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
