// A gateway process with a local journal, for the crash tests: it configures one http function
// (the parent's server) on its in-memory store, opens the journal and resumes what it holds,
// then emits what the parent asks over IPC and answers `accepted` or `rejected` per event.
const { createGateway, LocalJournal } = require('../../dist');
const { childStore } = require('./child-store');

const [directory, url] = process.argv.slice(2);

(async () => {
  const store = await childStore(url);
  const gateway = createGateway(store, {
    resyncInterval: 0,
    concurrency: 8,
    retry: { maxAttempts: 100, initialDelay: 5, maxDelay: 50, maxAge: 600_000 },
    journal: new LocalJournal({ directory, maxEntries: 60 }),
  });
  await gateway.ready();
  process.on('message', ({ id }) => {
    gateway.emit({ specversion: '1.0', id, source: '/crash', type: 'job.created' }).then(
      () => process.send({ id, accepted: true }),
      (error) => process.send({ id, accepted: false, code: error.code }),
    );
  });
  // The moments this process ran (its own clock): the parent's allowance for duplicates counts
  // from the last one, since a process the machine did not run could not write its marks.
  setInterval(() => process.connected && process.send({ ranAt: Date.now() }), 5);
  process.send({ ready: true });
})();
