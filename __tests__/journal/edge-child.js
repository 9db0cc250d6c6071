// A gateway process with a local journal, for the journal's edge tests: it configures one http
// function `fn` (the parent's server) subscribed to `job.created` on a fresh in-memory store, opens
// the journal and resumes what it holds, and tells the parent every dead letter (after `hookDelay`
// ms: an onDeadLetter hook that writes somewhere slow). The parent asks it to emit events or to
// close. Options come as one JSON argument: { directory, url, retry, timeout, hookDelay, drainTimeout,
// localHandler: 'poison' (its handler appends the event's ID to `receivedLog`, then crashes the
// process) }.
const { appendFileSync } = require('node:fs');
const { createGateway, LocalJournal } = require('../../dist');
const { childStore } = require('./child-store');

const options = JSON.parse(process.argv[2]);

(async () => {
  const store = await childStore(options.url);
  const gateway = createGateway(store, {
    resyncInterval: 0,
    retry: options.retry,
    ...(options.timeout ? { timeout: options.timeout } : {}),
    ...(options.drainTimeout !== undefined ? { drainTimeout: options.drainTimeout } : {}),
    journal: new LocalJournal({ directory: options.directory }),
    onDeadLetter: async (letter) => {
      if (options.hookDelay) await new Promise((r) => setTimeout(r, options.hookDelay));
      process.send({
        deadLettered: letter.event.id,
        reason: letter.reason,
        attempts: letter.attempts,
      });
    },
  });
  gateway.on('gateway.error', (error) => process.send({ error: error.message }));
  if (options.localHandler === 'poison') {
    // The function turns into a local one whose handler brings the process down (a bug in it,
    // an out-of-memory): each attempt kills the gateway before it can answer.
    await gateway.updateFunction({
      functionId: 'fn',
      handler: (event) => {
        // Written at once: an IPC message may not leave before the exit.
        appendFileSync(options.receivedLog, `${event.id}\n`);
        setImmediate(() => process.exit(70));
        return new Promise(() => undefined);
      },
    });
  }
  await gateway.ready();
  process.on('message', async (message) => {
    if (message.emit) {
      const id = message.emit;
      gateway.emit({ specversion: '1.0', id, source: '/edge', type: 'job.created' }).then(
        () => process.send({ id, accepted: true }),
        (error) => process.send({ id, accepted: false, code: error.code }),
      );
    } else if (message.close) {
      const { undelivered } = await gateway.close();
      process.send({ closed: undelivered.map((letter) => letter.event.id) });
    } else if (message.health) {
      process.send({ health: gateway.health() });
    }
  });
  process.send({ ready: true });
})();
