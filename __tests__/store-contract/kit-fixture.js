// Runs the published contract kit under node:test against the built package, as a third party
// would: `BROKEN=1` runs it against a store that ignores transaction compares.
const { describe, it, beforeEach, afterEach } = require('node:test');
const { describeStoreContract } = require('event-gateway/testing');
const { MemoryStore } = require('event-gateway');

class CompareBlindStore extends MemoryStore {
  txn(_compares, operations) {
    return super.txn([], operations);
  }
}

describeStoreContract(
  process.env.BROKEN ? 'CompareBlindStore' : 'MemoryStore',
  async () => {
    const store = process.env.BROKEN ? new CompareBlindStore() : new MemoryStore();
    return {
      store,
      compact: async (revision) => store.compact(revision),
      dispose: () => store.close(),
    };
  },
  { runner: { describe, it, beforeEach, afterEach } },
);
