import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';

jest.setTimeout(120_000);

const SEED = Number(process.env.FUZZ_SEED ?? 20261128);
const EVENTS_PER_LIFE = 120;
const LIVES = 4;

/** The function: a real HTTP server, slow (1-15 ms), recording what it received and when. */
async function slowFunction() {
  const received: { id: string; deliveryId: string; answeredAt: number }[] = [];
  const open = new Map<string, string>(); // deliveryId -> event id, while being answered
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const event = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      open.set(event.deliveryid, event.id);
      setTimeout(
        () => {
          res.end('ok', () => {
            open.delete(event.deliveryid);
            received.push({ id: event.id, deliveryId: event.deliveryid, answeredAt: Date.now() });
          });
        },
        1 + (event.id.length % 15),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    received,
    open,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
  };
}

function startChild(directory: string, url: string): Promise<ChildProcess> {
  const child = fork(join(__dirname, 'crash-child.js'), [directory, url], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`the gateway process exited with ${code}`)));
  });
}

test('SIGKILLed at random moments, a journaled gateway delivers every accepted event at least once, and no rejected one', async () => {
  const fn = await slowFunction();
  const directory = mkdtempSync(join(tmpdir(), 'eg-crash-'));
  const accepted = new Set<string>();
  const rejected = new Set<string>();
  let mayDuplicate = 0;
  // Seeded kill moments: after this many ms of each life.
  const killAfter = fc.sample(fc.integer({ min: 5, max: 400 }), { seed: SEED, numRuns: LIVES });
  try {
    for (let life = 0; life < LIVES; life++) {
      const child = await startChild(directory, fn.url);
      child.on('error', () => undefined); // EPIPE after the kill
      let ranAt = Date.now();
      child.on('message', (m: { id?: string; accepted?: boolean; ranAt?: number }) => {
        if (m.ranAt !== undefined) ranAt = Math.max(ranAt, m.ranAt);
        if (m.id === undefined) return;
        (m.accepted ? accepted : rejected).add(m.id);
      });
      const sending = (async () => {
        for (let i = 0; i < EVENTS_PER_LIFE && child.connected; i++) {
          // The kill may come between the check and the send: that event was never sent.
          child.send({ id: `L${life}-${i}` }, () => undefined);
          await new Promise((r) => setTimeout(r, 2));
        }
      })();
      await new Promise((r) => setTimeout(r, killAfter[life]));
      const killedAt = Date.now();
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      await sending.catch(() => undefined);
      // Deliveries that may come again: answered but perhaps not yet marked finished (marks are
      // written within ~10 ms of the answer, by a process that runs: counted from the last moment
      // the gateway process is known to have run, which a loaded machine may put well before the
      // kill), or still in flight at the kill.
      const lastRan = Math.min(killedAt, ranAt);
      mayDuplicate += fn.open.size + fn.received.filter((r) => r.answeredAt >= lastRan - 50).length;
    }
    // The last life runs to the end: everything accepted and unfinished is delivered.
    const child = await startChild(directory, fn.url);
    const deadline = Date.now() + 60_000;
    const delivered = () => new Set(fn.received.map((r) => r.id));
    while ([...accepted].some((id) => !delivered().has(id)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));

    const got = delivered();
    const lost = [...accepted].filter((id) => !got.has(id));
    const deliveredRejected = [...rejected].filter((id) => got.has(id));
    const duplicates = fn.received.length - got.size;
    process.stdout.write(
      `crash test (seed ${SEED}): ${accepted.size} accepted, ${rejected.size} rejected, ` +
        `${fn.received.length} deliveries, ${duplicates} duplicates (at most ${mayDuplicate} allowed)\n`,
    );
    expect(accepted.size).toBeGreaterThan(0);
    expect(lost).toEqual([]);
    expect(deliveredRejected).toEqual([]);
    expect(duplicates).toBeLessThanOrEqual(mayDuplicate);
  } finally {
    fn.server.closeAllConnections();
    fn.server.close();
    rmSync(directory, { recursive: true, force: true });
  }
});
