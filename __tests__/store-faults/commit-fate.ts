import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startConsul, startEtcd, startZooKeeper } from '../../lib';
import { CONSUL_BINARY } from '../helpers/servers';
import { addressOf, storeAt, type ServerStore, type StoreKind } from '../helpers/store-servers';

/** A server the test SIGKILLs and starts again on the same ports and data directory. */
async function killableServer(kind: StoreKind) {
  const dataDir = await mkdtemp(join(tmpdir(), `eg-${kind}-fate-`));
  const port = await freePort();
  const peerPort = await freePort();
  let running: { stop(options?: { kill?: boolean }): Promise<void> } | undefined;
  const start = async () => {
    running =
      kind === 'etcd'
        ? await startEtcd({ name: 'fate', dataDir, clientPort: port, peerPort })
        : kind === 'zookeeper'
          ? await startZooKeeper({ dataDir, clientPort: port })
          : await startConsul({ binary: CONSUL_BINARY, dataDir, httpPort: port });
  };
  await start();
  return {
    address: addressOf(kind, port),
    start,
    kill: async () => {
      await running?.stop({ kill: true });
      running = undefined;
    },
    dispose: async () => {
      await running?.stop({ kill: true });
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

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

/**
 * Writers put unique values under unique keys while the test SIGKILLs the server at many moments
 * and starts it again on its data after downtimes around `requestTimeout`. Afterwards every
 * answer is checked against the store: a write answered as failed must be absent, one answered
 * as done must be there; COMMIT_UNKNOWN may be either.
 */
export function describeCommitFate(
  kind: StoreKind,
  { rounds, writers = 16, seed = 1 }: { rounds: number; writers?: number; seed?: number },
): void {
  test(`${kind}: a write answered failed never landed, one answered done always did (server killed around commits)`, async () => {
    const requestTimeout = 1000;
    const random = prng(seed);
    const server = await killableServer(kind);
    const store: ServerStore = storeAt(kind, server.address, { requestTimeout });
    const p = `/fate-${process.pid}/`;
    const answers: Answer[] = [];
    let writing = true;
    try {
      const loops = Array.from({ length: writers }, async (_, w) => {
        for (let i = 0; writing; i++) {
          const key = `${p}w${w}-${i}`;
          const value = `${w}-${i}-${Math.random()}`;
          const started = Date.now();
          let outcome = 'ok';
          try {
            const result = await store.put(key, value);
            if (!result.succeeded) outcome = 'refused';
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
        await server.start();
      }
      await sleep(2 * requestTimeout);
      writing = false;
      await Promise.all(loops);

      const reader = storeAt(kind, server.address, { requestTimeout: 10_000 });
      try {
        const violations: string[] = [];
        for (let i = 0; i < answers.length; i += 50) {
          const batch = answers.slice(i, i + 50);
          const found = await Promise.all(batch.map((a) => reader.get(a.key)));
          batch.forEach((answer, j) => {
            const present = found[j]?.value === answer.value;
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
          `${kind}: ${rounds} kills, answers ${JSON.stringify(counts)}, slowest ${slowest} ms`,
        );
        expect(violations).toEqual([]);
        // Every answer came within the write's deadline plus the bounded settling after it.
        expect(slowest).toBeLessThan(2 * requestTimeout + 1500);
        expect(counts.ok).toBeGreaterThan(0);
      } finally {
        await reader.close();
      }
    } finally {
      writing = false;
      await store.close();
      await server.dispose();
    }
  });
}
