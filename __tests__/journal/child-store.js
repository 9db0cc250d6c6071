// The configuration the gateway processes of the journal tests share: one http function (the
// parent's server at `url`) subscribed to `job.created`, on a fresh in-memory store.
const { createGateway, MemoryStore } = require('../../dist');

async function childStore(url) {
  const store = new MemoryStore();
  const setup = createGateway(store, { resyncInterval: 0 });
  await setup.registerFunction({ functionId: 'fn', type: 'http', provider: { url } });
  await setup.createEventType({ name: 'job.created' });
  await setup.subscribe({ eventType: 'job.created', functionId: 'fn' });
  await setup.close();
  return store;
}

module.exports = { childStore };
