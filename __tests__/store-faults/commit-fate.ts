import { createGateway, type Gateway } from '../../lib';
import { startStoreServer, type StoreKind } from '../helpers/store-servers';

/** One write and what the store answered. */
interface Answer {
  readonly key: string;
  readonly value: string;
  /** 'ok', or the error's code ('STORE_UNAVAILABLE', 'COMMIT_UNKNOWN', ...). */
  readonly outcome: string;
  readonly took: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function prng(seed: number) {
  return () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
}

/** How the writers write: puts on the store, or function registrations through a gateway. */
type Through = 'store' | 'gateway';

/**
 * Writers put unique values under unique keys (or register functions with unique IDs through a
 * gateway) while the test SIGKILLs the server at many moments and starts it again on its data
 * after downtimes around `requestTimeout`. Afterwards every answer is checked against the store:
 * a write answered as failed must be absent, one answered as done must be there; COMMIT_UNKNOWN
 * may be either.
 */
export function describeCommitFate(
  kind: StoreKind,
  {
    rounds,
    writers = 16,
    seed = 1,
    through = 'store',
  }: { rounds: number; writers?: number; seed?: number; through?: Through },
): void {
  test(`${kind}, writing through the ${through}: a write answered failed never landed, one answered done always did (server killed around commits)`, async () => {
    const requestTimeout = 1000;
    const consistencyTimeout = 1500;
    const random = prng(seed);
    const server = await startStoreServer(kind);
    const store = server.connect({ requestTimeout });
    const p = `/fate-${process.pid}-${through}/`;
    let gateway: Gateway | undefined;
    if (through === 'gateway') {
      gateway = createGateway(store, {
        prefix: p,
        resyncInterval: 1000,
        consistencyTimeout,
        maxWriteAttempts: 100,
      });
      await gateway.ready();
    }
    /** The key a write of `id` lands under; its value then contains the write's unique value. */
    const keyOf = (id: string) => (gateway ? `${p}functions/default/${id}` : p + id);
    /** Writes a unique value for `id`: false when the store refused it (it must be absent). */
    const write = async (id: string, value: string): Promise<boolean> => {
      if (!gateway) return (await store.put(keyOf(id), value)).succeeded;
      await gateway.registerFunction({
        functionId: id,
        type: 'http',
        provider: { url: `http://127.0.0.1:1/${value}` },
      });
      return true;
    };
    const answers: Answer[] = [];
    let writing = true;
    try {
      const loops = Array.from({ length: writers }, async (_, w) => {
        for (let i = 0; writing; i++) {
          const id = `w${w}-${i}`;
          const key = keyOf(id);
          const value = `${w}-${i}-${Math.random()}`;
          const started = Date.now();
          let outcome = 'ok';
          try {
            if (!(await write(id, value))) outcome = 'refused';
          } catch (error) {
            outcome = (error as { code?: string }).code ?? String(error);
          }
          answers.push({ key, value, outcome, took: Date.now() - started });
          // Failures come fast while the server is gone: stagger the writers' next attempts.
          if (outcome !== 'ok') await sleep(random() * 30);
        }
      });
      // Downtimes around requestTimeout: a write that started as the server went away plans
      // and commits right before its deadline when the server is back just in time.
      const downtimes = [0, 200, 700, 900, 950, 1000, 1050, 1200, 2500];
      for (let round = 0; round < rounds; round++) {
        await sleep(150 + random() * 1.5 * requestTimeout);
        await server.kill();
        await sleep(downtimes[round % downtimes.length] + random() * 100);
        await server.restart({ keepData: true });
      }
      await sleep(2 * requestTimeout);
      writing = false;
      await Promise.all(loops);

      const reader = server.connect({ requestTimeout: 10_000 });
      try {
        const violations: string[] = [];
        for (let i = 0; i < answers.length; i += 50) {
          const batch = answers.slice(i, i + 50);
          const found = await Promise.all(batch.map((a) => reader.get(a.key)));
          batch.forEach((answer, j) => {
            const present = found[j]?.value.includes(answer.value) === true;
            if (answer.outcome === 'ok' && !present)
              violations.push(`${answer.key}: answered ok after ${answer.took} ms, absent`);
            if (answer.outcome !== 'ok' && answer.outcome !== 'COMMIT_UNKNOWN' && present)
              violations.push(
                `${answer.key}: answered ${answer.outcome} after ${answer.took} ms, present`,
              );
          });
        }
        const counts: Record<string, number> = {};
        for (const a of answers) counts[a.outcome] = (counts[a.outcome] ?? 0) + 1;
        const slowest = Math.max(...answers.map((a) => a.took));
        console.log(
          `${kind} through the ${through}: ${rounds} kills, answers ${JSON.stringify(counts)}, slowest ${slowest} ms`,
        );
        expect(violations).toEqual([]);
        // Every answer came within the write's deadline plus the bounded settling after it (and,
        // through a gateway, the wait for its cache), with a second of slack for a loaded machine.
        expect(slowest).toBeLessThan(
          2 * requestTimeout + (gateway ? consistencyTimeout : 0) + 1000,
        );
        expect(counts.ok).toBeGreaterThan(0);
      } finally {
        await reader.close();
      }
    } finally {
      writing = false;
      await gateway?.close();
      await store.close();
      await server.dispose();
    }
  });
}
