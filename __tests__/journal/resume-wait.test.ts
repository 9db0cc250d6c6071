// Journaled deliveries saved before a kill are resumed when the app has configured itself, not
// dead-lettered because it had not yet: real gateway processes, SIGKILLed and restarted, in the two
// shapes an app takes (an in-memory store configured after start; a persistent store whose local
// handler is bound after ready()).
import { fork, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  createGateway,
  EtcdStore,
  LocalJournal,
  MemoryStore,
  startEtcd,
  type CloudEvent,
  type DeadLetter,
  type GatewayHealth,
  type RunningEtcd,
} from '../../lib';
import { waitUntil } from '../../lib/testing';
import { cloudEvent } from '../helpers/events';
import { configuredStore, journalFixture, neverAnswering } from './journal-fixture';

jest.setTimeout(120_000);

type Message = Record<string, unknown>;

/** A gateway process (resume-child.js) and what it said. */
class Child {
  readonly messages: Message[] = [];
  private constructor(readonly process: ChildProcess) {
    process.on('message', (m: Message) => this.messages.push(m));
    process.on('error', () => undefined); // EPIPE after a kill
  }

  static async start(args: string[]): Promise<Child> {
    const child = new Child(
      fork(join(__dirname, 'resume-child.js'), args, {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    await child.until((m) => m.ready === true, 'ready');
    return child;
  }

  async until(match: (m: Message) => boolean, what: string, timeout = 20_000): Promise<Message> {
    const deadline = Date.now() + timeout;
    for (;;) {
      const found = this.messages.find(match);
      if (found) return found;
      if (Date.now() > deadline || this.process.exitCode !== null || this.process.signalCode) {
        throw new Error(`the gateway process never said ${what}: ${JSON.stringify(this.messages)}`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async ask(message: Message, reply: string): Promise<Message> {
    const from = this.messages.length;
    this.process.send(message);
    const answer = await this.until(
      (m) => this.messages.indexOf(m) >= from && m[reply] !== undefined,
      reply,
    );
    return answer;
  }

  async emit(ids: string[]): Promise<void> {
    for (const id of ids) this.process.send({ emit: id });
    for (const id of ids) {
      const answer = await this.until((m) => m.id === id, `the outcome of ${id}`);
      if (answer.accepted !== true) throw new Error(`${id} was refused: ${String(answer.code)}`);
    }
  }

  async health(): Promise<GatewayHealth> {
    return (await this.ask({ health: true }, 'health')).health as GatewayHealth;
  }

  said(key: string): unknown[] {
    return this.messages.filter((m) => m[key] !== undefined).map((m) => m[key]);
  }

  async kill(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    const exited = new Promise((r) => this.process.once('exit', r));
    this.process.kill('SIGKILL');
    await exited;
  }
}

/** The http function: holds every request while `hold` is set, answers the rest. */
async function httpFunction() {
  const state = { hold: true };
  const received: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (state.hold) return; // never answered: the delivery stays unfinished
      received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')).id);
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return { server, state, received, url };
}

const fx = journalFixture('eg-resume-');
const children: Child[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) await child.kill();
});

async function start(args: string[]): Promise<Child> {
  const child = await Child.start(args);
  children.push(child);
  return child;
}

const IDS = Array.from({ length: 20 }, (_, i) => `job-${i}`);

test('in-memory store configured after start (the quick start): saved deliveries wait for their function, across a kill while waiting, then are delivered', async () => {
  const fn = await httpFunction();
  try {
    // Life 1: the app configures itself, accepts 20 events, and dies with them unfinished.
    const first = await start([fx.dir, 'memory', fn.url]);
    await first.ask({ register: true }, 'registered');
    await first.emit(IDS);
    await first.kill();

    // Life 2: killed before the app configured itself. The deliveries wait, and say so.
    const second = await start([fx.dir, 'memory', fn.url]);
    await new Promise((r) => setTimeout(r, 300));
    const health = await second.health();
    expect(second.said('deadLettered')).toEqual([]);
    expect(health).toMatchObject({
      ready: true,
      journal: {
        entries: IDS.length,
        waiting: IDS.length,
        waitingFor: [
          { space: 'default', functionId: 'fn', deliveries: IDS.length, missing: 'function' },
        ],
      },
    });
    await second.kill();

    // Life 3: configured after ready(): every saved delivery is made, none dead-lettered.
    fn.state.hold = false;
    const third = await start([fx.dir, 'memory', fn.url]);
    await third.ask({ register: true }, 'registered');
    await waitUntil(() => IDS.every((id) => fn.received.includes(id)), 20_000);
    expect([...new Set(fn.received)].sort()).toEqual([...IDS].sort());
    expect(third.said('deadLettered')).toEqual([]);
    const after = await third.health();
    expect(after.journal).toMatchObject({ waiting: 0 });
  } finally {
    fn.server.closeAllConnections();
    fn.server.close();
  }
});

describe('with etcd', () => {
  let etcd: RunningEtcd;
  beforeAll(async () => {
    etcd = await startEtcd();
    // The persistent configuration: a local function, bound by whichever process runs it.
    const store = new EtcdStore({ hosts: etcd.endpoints });
    const admin = createGateway(store, { resyncInterval: 0 });
    await admin.registerFunction({ functionId: 'fn', handler: () => undefined });
    await admin.createEventType({ name: 'job.created' });
    await admin.subscribe({ eventType: 'job.created', functionId: 'fn' });
    await admin.close();
    await store.close();
  }, 60_000);
  afterAll(async () => etcd?.stop());

  test('persistent store, local handler bound after ready(): saved deliveries wait for the handler, then are delivered', async () => {
    const endpoint = etcd.endpoints[0];
    const first = await start([fx.dir, 'etcd', endpoint]);
    await first.ask({ bind: 'hold' }, 'bound');
    await first.emit(IDS);
    await first.until((m) => m.received === IDS[IDS.length - 1], 'the last delivery started');
    await first.kill();

    const second = await start([fx.dir, 'etcd', endpoint]);
    await new Promise((r) => setTimeout(r, 300));
    expect(second.said('deadLettered')).toEqual([]);
    expect(await second.health()).toMatchObject({
      journal: {
        waiting: IDS.length,
        waitingFor: [{ functionId: 'fn', deliveries: IDS.length, missing: 'handler' }],
      },
    });
    await second.ask({ bind: 'answer' }, 'bound');
    await waitUntil(() => IDS.every((id) => second.said('received').includes(id)), 20_000);
    expect([...new Set(second.said('received'))].sort()).toEqual([...IDS].sort());
    expect(second.said('deadLettered')).toEqual([]);
  });
});

// In one process: the bound on waiting a user chooses.
describe('waitForFunctions', () => {
  const { gateways } = fx;

  /** A delivery left unfinished in the journal for a local function `fn`. */
  async function saved(): Promise<MemoryStore> {
    const store = await configuredStore();
    const first = await neverAnswering(store, fx.dir);
    await first.emit(cloudEvent('user.created', undefined, { id: 'saved' }));
    await first.close();
    return store;
  }

  function restarted(store: MemoryStore, waitForFunctions: number) {
    const letters: DeadLetter[] = [];
    const gateway = createGateway(store, {
      resyncInterval: 0,
      journal: new LocalJournal({ directory: fx.dir, waitForFunctions }),
      onDeadLetter: (letter) => void letters.push(letter),
    });
    gateways.push(gateway);
    return { gateway, letters };
  }

  test('past the wait chosen, a delivery whose handler was never bound is dead-lettered, saying why', async () => {
    const store = await saved();
    const { gateway, letters } = restarted(store, 150);
    await gateway.ready();
    expect(letters).toEqual([]);
    expect(gateway.health().journal).toMatchObject({ waiting: 1 });
    await waitUntil(() => letters.length > 0, 20_000);
    expect(letters[0]).toMatchObject({
      event: expect.objectContaining({ id: 'saved' }) as CloudEvent,
      reason: expect.stringMatching(/no handler is bound .*"fn".*waited 150 ms/i),
    });
    expect(gateway.health().journal).toMatchObject({ waiting: 0 });
    await waitUntil(() => gateway.metrics().journalEntries === 0, 20_000);
  });

  test('0 dead-letters at once, as before', async () => {
    const store = await saved();
    const { gateway, letters } = restarted(store, 0);
    await gateway.ready();
    await waitUntil(() => letters.length > 0, 20_000);
    expect(letters[0].reason).toMatch(/No handler is bound/);
  });

  test('a waiting delivery is made once its handler is bound here (updateFunction with a handler)', async () => {
    const store = await saved();
    const { gateway, letters } = restarted(store, 60_000);
    await gateway.ready();
    const got: string[] = [];
    await gateway.updateFunction({
      functionId: 'fn',
      handler: (e) => void got.push((e as CloudEvent).id),
    });
    await waitUntil(() => got.length > 0, 20_000);
    expect(got).toEqual(['saved']);
    expect(letters).toEqual([]);
  });

  test('close() leaves waiting deliveries in the journal and reports them undelivered', async () => {
    const store = await saved();
    const { gateway } = restarted(store, 60_000);
    await gateway.ready();
    gateways.splice(gateways.indexOf(gateway), 1);
    const { undelivered } = await gateway.close();
    expect(undelivered.map((d) => d.event.id)).toEqual(['saved']);
    expect(undelivered[0].reason).toMatch(/waited for/);
    const { gateway: again } = restarted(store, 60_000);
    await again.ready();
    expect(again.health().journal).toMatchObject({ entries: 1, waiting: 1 });
  });

  test('the option is checked', () => {
    for (const bad of [-1, Number.NaN, '5']) {
      expect(
        () => new LocalJournal({ directory: fx.dir, waitForFunctions: bad as number }),
      ).toThrow(/waitForFunctions/);
    }
  });
});
