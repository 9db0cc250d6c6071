// (b) emit to a `local` handler against emittery delivering the same payload to an async
// listener; a plain eventemitter3 emit is the limit.
const { EventEmitter } = require('eventemitter3');
const { createGateway, MemoryStore } = require('../dist');
const { BENCH_EVENT, opsPerSecond } = require('./harness');

const BATCH = 1000;

module.exports = {
  name: 'emit-local',
  title: '(b) emit to a local handler vs emittery',
  goal: '>= 2x emittery',
  async run() {
    const { default: Emittery } = await import('emittery');
    // A plain (unfrozen) copy, as a caller's own object would be.
    const event = { ...BENCH_EVENT, data: { ...BENCH_EVENT.data } };

    // Ours: emit a batch, resolve when the handler has seen all of it.
    const gateway = createGateway(new MemoryStore(), { resyncInterval: 0 });
    let seen = 0;
    let target = 0;
    let done = () => undefined;
    await gateway.registerFunction({
      functionId: 'handler',
      handler: async () => {
        if (++seen === target) done();
      },
    });
    await gateway.createEventType({ name: 'user.created' });
    await gateway.subscribe({ eventType: 'user.created', functionId: 'handler' });
    const ours = async () => {
      target = seen + BATCH;
      const delivered = new Promise((resolve) => (done = resolve));
      for (let i = 0; i < BATCH; i++) gateway.emit(event);
      await delivered;
    };

    const emittery = new Emittery();
    emittery.on('user.created', async () => undefined);
    const baseline = async () => {
      const pending = [];
      for (let i = 0; i < BATCH; i++) pending.push(emittery.emit('user.created', event));
      await Promise.all(pending);
    };

    const ee = new EventEmitter();
    let eeSeen = 0;
    ee.on('user.created', async () => {
      eeSeen++;
    });
    const limit = async () => {
      for (let i = 0; i < BATCH; i++) ee.emit('user.created', event);
      await Promise.resolve();
    };

    const rates = await opsPerSecond({ ours, baseline, limit });
    await gateway.close();
    if (eeSeen === 0) throw new Error('emit-local: the eventemitter3 listener never ran');
    const m = gateway.metrics();
    if (m.deliveriesSucceeded !== m.deliveriesAccepted)
      throw new Error('emit-local: deliveries lost');
    return {
      ours: { value: rates.ours * BATCH, unit: 'events/s', label: 'gateway.emit -> local handler' },
      baseline: {
        value: rates.baseline * BATCH,
        unit: 'events/s',
        label: 'emittery -> async listener',
      },
      limit: { value: rates.limit * BATCH, unit: 'events/s', label: 'eventemitter3 emit' },
      ratio: rates.ours / rates.baseline,
      met: rates.ours / rates.baseline >= 2,
    };
  },
};
