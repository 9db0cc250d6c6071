import fc from 'fast-check';
import {
  ConfigCache,
  MemoryStore,
  ValidationError,
  type CacheChange,
  type Operation,
  type Store,
} from '../../lib';
import { retryWrite } from './retry-write';
import { cacheDump, sorted, storeDump, storeFixture } from './store-fixture';
import type { ServerStore, StoreKind } from './store-servers';
import type { TcpProxy } from './tcp-proxy';

/**
 * The model-based property "the cache equals the store": one writer makes random puts, deletes,
 * prefix deletes and transactions, interleaved with faults (cut or blocked links, compaction past
 * the caches, server restarts, pauses past the watches' silence checks, writes made while a cache
 * relists); once quiet, two caches (as two gateway instances hold) must equal a fresh listing of
 * the store, and each cache's `changes` events, replayed in order, must rebuild the same map.
 */

/** The key names the runs draw from: few, so that keys collide; some with unusual characters. */
const NAMES = [
  'a',
  'a/b',
  'a/b/c',
  'a b',
  'a%2Fb',
  '%',
  'ab',
  'b',
  'é',
  '日本',
  '😀',
  '\uff01',
  'k\u0001',
  'lone\ud800',
  'z~',
  '.',
  '..',
];
/** Sub-prefixes the prefix deletes use ('' deletes everything). */
const SUBS = ['', 'a', 'a/', 'a/b', 'b', '.', '日'];

export type Command =
  | { t: 'put'; key: string; value: string }
  /** A value near a server's limits (made at run time: a counterexample stays short to print). */
  | { t: 'putBig'; key: string; size: number }
  | { t: 'del'; key: string }
  | { t: 'delPrefix'; sub: string }
  | { t: 'txn'; ops: Operation[] }
  | { t: 'cut'; which: number }
  | { t: 'block'; which: number; ms: number }
  | { t: 'compact' }
  | { t: 'restart' }
  /** The server restarted empty: its revisions (Consul's index, ZooKeeper's zxid) start over. */
  | { t: 'restartEmpty'; behind: boolean }
  /** A link blocked past the session timeout (ZooKeeper's session expires) while writes go on. */
  | { t: 'longBlock'; which: number }
  /** With a cache cut off: a key deleted, the store compacted, the key created again. */
  | { t: 'recreateAcrossCompaction'; which: number; key: string }
  | { t: 'pause'; ms: number }
  | { t: 'duringRelist'; which: number; recreate: boolean };

const key = fc.constantFrom(...NAMES);
const smallValue = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.constantFrom('', '{"a":1}', '\\u0000', 'line\nbreak'),
);
const value = smallValue;

function commandArbitrary(options: { restarts: boolean }): fc.Arbitrary<Command> {
  const which = fc.integer({ min: 0, max: 1 });
  const writes: fc.WeightedArbitrary<Command>[] = [
    { arbitrary: fc.record({ t: fc.constant('put' as const), key, value }), weight: 10 },
    {
      arbitrary: fc.record({
        t: fc.constant('putBig' as const),
        key,
        // The last is past every server's request limit: a ValidationError, nothing written.
        size: fc.constantFrom(64 * 1024, 200 * 1024, 400 * 1024, 2_000_000),
      }),
      weight: 1,
    },
    { arbitrary: fc.record({ t: fc.constant('del' as const), key }), weight: 4 },
    {
      arbitrary: fc.record({ t: fc.constant('delPrefix' as const), sub: fc.constantFrom(...SUBS) }),
      weight: 1,
    },
    {
      arbitrary: fc.record({
        t: fc.constant('txn' as const),
        // A key may come twice: its operations apply in order.
        ops: fc.array(key, { minLength: 1, maxLength: 5 }).chain((keys) =>
          fc.tuple(
            ...keys.map((k) =>
              fc.oneof(
                smallValue.map((v): Operation => ({ type: 'put', key: k, value: v })),
                fc.constant<Operation>({ type: 'delete', key: k }),
              ),
            ),
          ),
        ),
      }),
      weight: 3,
    },
  ];
  const faults: fc.WeightedArbitrary<Command>[] = [
    { arbitrary: fc.record({ t: fc.constant('cut' as const), which }), weight: 3 },
    {
      arbitrary: fc.record({
        t: fc.constant('block' as const),
        which,
        ms: fc.integer({ min: 50, max: 600 }),
      }),
      weight: 2,
    },
    { arbitrary: fc.record({ t: fc.constant('compact' as const) }), weight: 2 },
    {
      arbitrary: fc.record({ t: fc.constant('recreateAcrossCompaction' as const), which, key }),
      weight: 1,
    },
    {
      arbitrary: fc.record({
        t: fc.constant('pause' as const),
        ms: fc.integer({ min: 0, max: 900 }),
      }),
      weight: 1,
    },
    {
      arbitrary: fc.record({
        t: fc.constant('duringRelist' as const),
        which,
        recreate: fc.boolean(),
      }),
      weight: 2,
    },
  ];
  if (options.restarts) {
    faults.push(
      { arbitrary: fc.record({ t: fc.constant('restart' as const) }), weight: 1 },
      {
        arbitrary: fc.record({ t: fc.constant('restartEmpty' as const), behind: fc.boolean() }),
        weight: 1,
      },
      { arbitrary: fc.record({ t: fc.constant('longBlock' as const), which }), weight: 1 },
    );
  }
  return fc.oneof(...writes, ...faults);
}

/** What a run drives: the writer's store, the caches' stores and the faults of their links. */
export interface Subject {
  readonly writer: Store;
  /** A store per cache (each its own connection), wrapped by {@link hooked}. */
  readonly stores: readonly HookedStore[];
  cut(which: number): void;
  block(which: number, ms: number): void;
  /** Lets every link through again (the run is over). */
  heal(): void;
  compact(): Promise<void>;
  restart?(options: { keepData: boolean }): Promise<void>;
  /** How long a link must stay blocked for the server to give up on the client's session. */
  readonly sessionTimeout?: number;
}

/** A store whose next listing runs a write between its pages (see `duringRelist`). */
export interface HookedStore {
  readonly store: Store;
  /** Runs `write` before the next listing's second page is read (once). */
  arm(write: (listed: readonly string[]) => Promise<void>): void;
  /** Forgets a write armed and not run (a run is over: the next must not see it). */
  disarm(): void;
}

/** Wraps a store so a test can write while a listing pages (list page k, change page k - 1). */
export function hooked(store: Store): HookedStore {
  let armed: ((listed: readonly string[]) => Promise<void>) | undefined;
  let listed: string[] = [];
  const wrapped = new Proxy(store, {
    get(target, name) {
      if (name === 'list') {
        return async (prefix: string, options: Parameters<Store['list']>[1] = {}) => {
          if (options.after === undefined) listed = [];
          else if (armed) {
            const write = armed;
            armed = undefined;
            await write(listed);
          }
          const page = await target.list(prefix, options);
          listed.push(...page.items.map((kv) => kv.key));
          return page;
        };
      }
      const value = Reflect.get(target, name) as unknown;
      return typeof value === 'function'
        ? (value as (...a: unknown[]) => unknown).bind(target)
        : value;
    },
  });
  return {
    store: wrapped,
    arm: (write) => (armed = write),
    disarm: () => (armed = undefined),
  };
}

/** A cache and the map its `changes` events rebuild, with what the replay found wrong. */
class Replayed {
  readonly map = new Map<string, { value: string; modRevision: number }>();
  readonly violations: string[] = [];
  private lastRevision = 0;

  constructor(
    readonly cache: ConfigCache,
    private readonly label: string,
    /** The cache keeps values (else, as the gateway's catalog, only its events carry them). */
    private readonly retained: boolean,
  ) {
    cache.on('changes', (changes, revision) => this.apply(changes, revision));
  }

  private wentBack = false;

  /** The store went back in time on purpose (restarted empty): revisions may start over. */
  forgetRevisions(): void {
    this.wentBack = true;
  }

  private apply(changes: CacheChange[], revision: number): void {
    if (revision < this.lastRevision && !this.wentBack) {
      this.violations.push(`${this.label}: batch revision ${revision} after ${this.lastRevision}`);
    }
    this.lastRevision = revision;
    for (const { key, kv, prev } of changes) {
      const had = this.map.get(key);
      // The prev a change names is what the replay holds: no change missed, none applied twice.
      if (had?.modRevision !== prev?.modRevision || (this.retained && had?.value !== prev?.value)) {
        this.violations.push(
          `${this.label}: ${JSON.stringify(key)} prev ${JSON.stringify(prev?.modRevision)} but replay holds ${JSON.stringify(had?.modRevision)}`,
        );
      }
      if (kv && prev && kv.modRevision <= prev.modRevision && !this.wentBack) {
        this.violations.push(
          `${this.label}: ${JSON.stringify(key)} went from mod ${prev.modRevision} back to ${kv.modRevision}`,
        );
      }
      if (kv) this.map.set(key, { value: kv.value, modRevision: kv.modRevision });
      else this.map.delete(key);
    }
  }

  /**
   * What the cache holds: its own values, or (keeping none) the values its events carried for
   * the keys it holds, as the gateway's catalog sees them.
   */
  view(): Record<string, string> {
    if (this.retained) return cacheDump(this.cache);
    const out: Record<string, string> = {};
    for (const kv of this.cache.entries()) {
      out[kv.key] = this.map.get(kv.key)?.value ?? '<no event carried it>';
    }
    return out;
  }

  /** Where the cache and the map its events rebuild disagree (a key, a revision, a value). */
  mismatches(): string[] {
    const found: string[] = [];
    const keys = new Set([...this.map.keys(), ...[...this.cache.entries()].map((kv) => kv.key)]);
    for (const key of keys) {
      const held = this.cache.get(key);
      const replayed = this.map.get(key);
      if (
        held?.modRevision !== replayed?.modRevision ||
        (this.retained && held?.value !== replayed?.value)
      ) {
        found.push(
          `${this.label}: ${JSON.stringify(key)} is mod ${held?.modRevision} in the cache, ${replayed?.modRevision} replayed from its events`,
        );
      }
    }
    return found;
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Prefix deletes go in transactions of 20 keys (within ZooKeeper's and Consul's limits). */
async function deletePrefix(store: Store, prefix: string): Promise<void> {
  const keys = Object.keys(await storeDump(store, prefix));
  for (let i = 0; i < keys.length; i += 20) {
    await store.txn(
      [],
      keys.slice(i, i + 20).map((k) => ({ type: 'delete' as const, key: k })),
    );
  }
}

/** Runs one command sequence against a subject and checks the property at the end. */
export async function runSequence(
  subject: Subject,
  prefix: string,
  commands: readonly Command[],
  options: { settleMs?: number } = {},
): Promise<void> {
  const { writer } = subject;
  const caches = subject.stores.map((hookedStore, i) => {
    const cache = new ConfigCache(hookedStore.store, prefix, {
      resyncInterval: 0,
      retryDelay: 50,
      maxRetryDelay: 500,
      // Small pages: every relisting pages, so writes can land between its pages.
      pageSize: i === 0 ? 2 : 5,
      // The second keeps no values, as the gateway's catalog runs its cache.
      retainValues: i === 0,
    });
    return new Replayed(cache, `cache ${i}`, i === 0);
  });
  // A write refused with a typed error (too large) must change nothing: the final check sees it.
  // The model: what the one writer's writes leave (every write is idempotent, so one retried
  // after an answer was lost leaves the same).
  const model = new Map<string, string>();
  const write = (fn: () => Promise<unknown>, then: () => void = () => undefined) =>
    retryWrite(fn).then(then, (error: unknown) => {
      if (!(error instanceof ValidationError)) throw error;
    });
  const put = (k: string, v: string) => () => void model.set(k, v);
  const del = (k: string) => () => void model.delete(k);
  try {
    for (const { cache } of caches) cache.start();
    await Promise.all(caches.map(({ cache }) => cache.ready()));
    for (const command of commands) {
      switch (command.t) {
        case 'put':
          await write(
            () => writer.put(prefix + command.key, command.value),
            put(prefix + command.key, command.value),
          );
          break;
        case 'putBig': {
          const big = `${command.size}:`.padEnd(command.size, 'x');
          await write(() => writer.put(prefix + command.key, big), put(prefix + command.key, big));
          break;
        }
        case 'del':
          await write(() => writer.delete(prefix + command.key), del(prefix + command.key));
          break;
        case 'delPrefix':
          await write(
            () => deletePrefix(writer, prefix + command.sub),
            () =>
              [...model.keys()]
                .filter((k) => k.startsWith(prefix + command.sub))
                .forEach((k) => model.delete(k)),
          );
          break;
        case 'txn': {
          const ops = command.ops.map((op) => ({ ...op, key: prefix + op.key }));
          await write(
            () => writer.txn([], ops),
            () =>
              ops.forEach((op) =>
                op.type === 'put' ? model.set(op.key, op.value) : model.delete(op.key),
              ),
          );
          break;
        }
        case 'cut':
          subject.cut(command.which);
          break;
        case 'block':
          subject.block(command.which, command.ms);
          break;
        case 'compact':
          await write(() => subject.compact());
          break;
        case 'restart':
          await subject.restart?.({ keepData: true });
          break;
        case 'restartEmpty': {
          if (!subject.restart) break;
          for (const replayed of caches) replayed.forgetRevisions();
          const old = [...model];
          // Behind: the caches are cut off until the new store has the same writes again (equal
          // modRevisions, other values) and more, past the revision they hold.
          if (command.behind) for (let i = 0; i < caches.length; i++) subject.block(i, 120_000);
          await subject.restart({ keepData: false });
          model.clear();
          if (command.behind) {
            for (const [k, v] of old) await write(() => writer.put(k, v + '+'), put(k, v + '+'));
            const past = Math.max(...caches.map(({ cache }) => cache.revision)) + 2;
            for (let revision = 0, i = 0; revision <= past && i < 3000; i++) {
              revision = (await retryWrite(() => writer.put(prefix + 'filler', String(i))))
                .revision;
              model.set(prefix + 'filler', String(i));
            }
            subject.heal();
          }
          break;
        }
        case 'longBlock':
          // Past the session timeout (ZooKeeper's session expires), with a write meanwhile.
          subject.block(command.which, (subject.sessionTimeout ?? 0) + 1500);
          await write(
            () => writer.put(prefix + 'a', 'during a long block'),
            put(prefix + 'a', 'during a long block'),
          );
          await pause((subject.sessionTimeout ?? 0) + 1700);
          break;
        case 'recreateAcrossCompaction':
          subject.block(command.which, 1000);
          await write(() => writer.delete(prefix + command.key), del(prefix + command.key));
          await write(() => subject.compact());
          await write(
            () => writer.put(prefix + command.key, 'recreated after compaction'),
            put(prefix + command.key, 'recreated after compaction'),
          );
          break;
        case 'pause':
          await pause(command.ms);
          break;
        case 'duringRelist': {
          // Delete (and maybe recreate) a key of an earlier page while the next page is read.
          subject.stores[command.which].arm(async (listed) => {
            const victim = listed[listed.length - 1];
            if (!victim) return;
            await write(() => writer.delete(victim), del(victim));
            if (command.recreate)
              await write(() => writer.put(victim, 'recreated'), put(victim, 'recreated'));
          });
          void caches[command.which].cache.resync('test: a relisting with writes between pages');
          break;
        }
      }
    }
    subject.heal();
    await settle(caches, writer, prefix, options.settleMs ?? 20_000, model);
  } finally {
    for (const { cache } of caches) cache.close();
    for (const hookedStore of subject.stores) hookedStore.disarm();
  }
}

/** Waits for every cache to equal the store, then checks the replays; throws what differs. */
async function settle(
  caches: readonly Replayed[],
  writer: Store,
  prefix: string,
  timeoutMs: number,
  model: ReadonlyMap<string, string>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let expected: [string, string][] = [];
  for (;;) {
    expected = sorted(await retryWrite(() => storeDump(writer, prefix)));
    const want = JSON.stringify(expected);
    if (caches.every((replayed) => JSON.stringify(sorted(replayed.view())) === want)) break;
    if (Date.now() > deadline) break;
    await pause(100);
  }
  const problems: string[] = [];
  const want = new Map(expected);
  // The store holds what was written: no key renamed, no value changed on the way.
  for (const k of new Set([...model.keys(), ...want.keys()])) {
    if (model.get(k) !== want.get(k)) {
      problems.push(
        `store ${JSON.stringify(k.slice(prefix.length))}: written ${short(model.get(k))}, listed ${short(want.get(k))}`,
      );
    }
  }
  caches.forEach((replayed, i) => {
    const have = replayed.view();
    const differs = [...new Set([...Object.keys(have), ...want.keys()])].filter(
      (k) => have[k] !== want.get(k),
    );
    for (const k of differs) {
      problems.push(
        `cache ${i} ${JSON.stringify(k.slice(prefix.length))}: cache ${short(have[k])}, store ${short(want.get(k))}`,
      );
    }
    problems.push(...replayed.violations, ...replayed.mismatches());
  });
  if (problems.length > 0) throw new Error(problems.join('\n'));
}

function short(value: string | undefined): string {
  if (value === undefined) return 'absent';
  return value.length > 40
    ? `${JSON.stringify(value.slice(0, 20))}... (${value.length})`
    : JSON.stringify(value);
}

/** A MemoryStore subject: cuts end a cache's watch with an error, blocks hold every watch back. */
export function memorySubject(store: MemoryStore): Subject {
  const stores = [0, 1].map(() => cuttable(store));
  let blocked: NodeJS.Timeout | undefined;
  return {
    writer: store,
    stores: stores.map((s) => s.hooked),
    cut: (which) => stores[which].cut(),
    block: (_which, ms) => {
      store.suspendWatches();
      clearTimeout(blocked);
      blocked = setTimeout(() => store.resumeWatches(), ms);
    },
    heal: () => {
      clearTimeout(blocked);
      store.resumeWatches();
    },
    compact: async () => store.compact(),
  };
}

/** The store, with its open watches ended by an error on `cut()` (a dropped connection). */
function cuttable(store: Store): { hooked: HookedStore; cut(): void } {
  const open = new Set<() => void>();
  const wrapped = new Proxy(store, {
    get(target, name) {
      if (name === 'watch') {
        return (prefix: string, from: number, listener: Parameters<Store['watch']>[2]) => {
          let ended = false;
          const inner = target.watch(prefix, from, (event) => {
            if (!ended) listener(event);
          });
          const cut = () => {
            if (ended) return;
            ended = true;
            inner.close();
            open.delete(cut);
            listener({ type: 'error', error: new Error('cut') });
          };
          open.add(cut);
          return {
            close: () => {
              ended = true;
              open.delete(cut);
              inner.close();
            },
          };
        };
      }
      const value = Reflect.get(target, name) as unknown;
      return typeof value === 'function'
        ? (value as (...a: unknown[]) => unknown).bind(target)
        : value;
    },
  });
  return { hooked: hooked(wrapped), cut: () => [...open].forEach((cut) => cut()) };
}

/** A subject on a real server: each cache on a connection of its own through a TCP proxy. */
export function serverSubject(
  fx: ReturnType<typeof storeFixture>,
  links: { proxy: TcpProxy; store: ServerStore }[],
  writer: ServerStore,
): Subject {
  const timers = new Set<NodeJS.Timeout>();
  return {
    writer,
    stores: links.map(({ store }) => hooked(store)),
    cut: (which) => links[which].proxy.cut(),
    block: (which, ms) => {
      const { proxy } = links[which];
      proxy.block();
      const timer = setTimeout(() => {
        timers.delete(timer);
        proxy.unblock();
      }, ms);
      timers.add(timer);
    },
    heal: () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const { proxy } of links) proxy.unblock();
    },
    compact: async () => {
      const { revision } = await writer.list('/', { limit: 1 });
      // etcd refuses to compact a revision already compacted (nothing written since): no fault.
      await writer.compact(revision).catch((error: Error) => {
        if (!/compacted/.test(String(error.cause ?? error.message))) throw error;
      });
    },
    restart: (options) => fx.server.restart(options),
    sessionTimeout: 4000,
  };
}

/**
 * The fast-check settings of every file: a few runs, a seed printed (`CACHE_TRUTH_SEED` replays
 * it, `CACHE_TRUTH_RUNS` sets the number of runs), and a time budget. A run drawn past the budget
 * (shrinking included) passes at once, without touching a server: fast-check's own time limit
 * stops waiting for the run in progress, which then goes on after the test.
 */
export function propertySettings(name: string, numRuns: number, budgetMs: number) {
  const seed = Number(process.env.CACHE_TRUTH_SEED) || Math.floor(Math.random() * 2 ** 31);
  console.log(`${name}: fast-check seed ${seed} (CACHE_TRUTH_SEED=${seed} replays it)`);
  const until = Date.now() + budgetMs;
  return {
    settings: { seed, numRuns: Number(process.env.CACHE_TRUTH_RUNS) || numRuns },
    /** False once the budget is spent. */
    inBudget: () => Date.now() < until,
  };
}

/** The command sequences a run draws. */
export function commandsArbitrary(options: { restarts: boolean; maxLength?: number }) {
  return fc.array(commandArbitrary(options), { minLength: 4, maxLength: options.maxLength ?? 30 });
}

export type { StoreKind };
