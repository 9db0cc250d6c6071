// Intake plugins, an S3 archive and a replay: one gateway refuses events without a tenant,
// enriches the rest, archives what it accepts to S3; a second, fresh gateway replays a window.
// Runs against AWS (credentials and region from the environment, BUCKET=an existing bucket) or
// any S3-compatible server: S3_ENDPOINT=http://127.0.0.1:5000 BUCKET=events node examples/archive-replay.js
const { createGateway, MemoryStore, S3Archive, EventRefusedError } = require('..');

const s3 = {
  region: process.env.AWS_REGION ?? 'us-east-1',
  ...(process.env.S3_ENDPOINT ? { endpoint: process.env.S3_ENDPOINT, forcePathStyle: true } : {}),
};
const bucket = process.env.BUCKET ?? 'event-gateway-example';

/** A gateway whose function `audit` prints what it receives. */
async function gatewayWith(name, plugins) {
  const gateway = createGateway(new MemoryStore(), { plugins });
  await gateway.registerFunction({
    functionId: 'audit',
    handler: (event) => console.log(`${name} audit got ${event.id} (tenant ${event.tenant})`),
  });
  await gateway.createEventType({ name: 'order.placed' });
  await gateway.subscribe({ eventType: 'order.placed', functionId: 'audit' });
  return gateway;
}

async function main() {
  const tenants = {
    name: 'tenants',
    onEvent: (event) =>
      typeof event.data?.tenant === 'string'
        ? { extensions: { tenant: event.data.tenant } }
        : { refuse: 'an order names its tenant', status: 400 },
  };
  const archive = new S3Archive({ bucket, prefix: 'example/', s3, maxObjectAge: 1000 });
  const live = await gatewayWith('live', [tenants, archive]);

  const from = Date.now();
  for (const [id, tenant] of [
    ['o-1', 'acme'],
    ['o-2', undefined],
    ['o-3', 'globex'],
  ]) {
    const event = {
      specversion: '1.0',
      id,
      source: '/shop',
      type: 'order.placed',
      data: { tenant },
    };
    try {
      await live.emit(event, { wait: true });
    } catch (error) {
      if (!(error instanceof EventRefusedError)) throw error;
      console.log(`live refused ${id}: ${error.message} (${error.status})`);
    }
  }
  await live.close(); // the archive writes what it holds
  console.log('archived:', live.metrics().plugins[1].stats.archived);

  const fresh = await gatewayWith('replay', []);
  const totals = await fresh.replay({ source: archive, from });
  await fresh.close();
  console.log('replayed:', { read: totals.read, emitted: totals.emitted, refused: totals.refused });
}

main().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
