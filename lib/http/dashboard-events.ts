import { Readable } from 'node:stream';
import type { Gateway } from '../gateway';
import type { GatewayEvents } from '../gateway/gateway-types';
import { FunctionFigures, type FunctionBucket } from './function-figures';

/** What the dashboard's live feed reads of a gateway: its system events and per-function counts. */
export type DashboardEventSource = Pick<Gateway, 'on' | 'off' | 'functionMetrics'>;

/** One line of the live feed: a few fields copied from a system event, never its data. */
export interface DashboardEvent {
  readonly kind: 'received' | 'invoked' | 'failed' | 'refused';
  readonly space: string;
  /** Milliseconds since the epoch, when the gateway raised it. */
  readonly at: number;
  readonly eventId: string;
  readonly type?: string;
  readonly source?: string;
  readonly functionId?: string;
  readonly durationMs?: number;
  readonly attempts?: number;
  /** Why a delivery failed for good (`failed`) or an event was refused (`refused`). */
  readonly reason?: string;
  readonly code?: string;
  readonly lastStatus?: number;
}

/** Options of {@link DashboardEvents}. */
export interface DashboardEventsOptions {
  /**
   * Dead letters kept (the newest) per space, for the spaces that failed last (at most 1,000
   * spaces): one space's failures never push another's out.
   * @default 100
   */
  deadLetters?: number;
  /**
   * Feed lines kept for one client that does not read fast enough; past that, new ones are dropped
   * and counted (the client is told how many), so a slow client neither grows memory nor slows
   * delivery.
   * @default 256
   */
  clientBuffer?: number;
  /**
   * Live feeds open at once; one more is refused.
   * @default 100
   */
  maxClients?: number;
  /**
   * Live feeds of one space open at once; one more is refused, so that a tenant's pages cannot
   * take every feed.
   * @default a tenth of `maxClients` (at least 1)
   */
  maxClientsPerSpace?: number;
  /**
   * Length of one bucket of the per-function figures, ms.
   * @default 10000
   */
  bucketMs?: number;
  /**
   * Buckets kept per function (with the default bucket, 5 minutes).
   * @default 30
   */
  buckets?: number;
  /**
   * Functions with figures kept; the figures of others are not kept.
   * @default 1000
   */
  maxFunctions?: number;
}

const CUT = 500;
/** Spaces whose dead letters are kept: those that failed last. */
const MAX_LETTER_SPACES = 1000;
const KEEP_ALIVE_MS = 15_000;

function cut(value: unknown): string | undefined {
  return typeof value === 'string' ? value.slice(0, CUT) : undefined;
}

/**
 * The dashboard's view of a gateway's system events: a bounded ring of dead letters, figures per
 * function over the last minutes, and live feeds (server-sent events) for the open pages. Its
 * listeners copy a few fields and return: the delivery that raised an event never waits for a page.
 *
 * @example
 * ```ts
 * const events = new DashboardEvents(gateway, { deadLetters: 50 });
 * events.deadLetters('default'); // the newest failures of space "default", with their reasons
 * events.close();
 * ```
 */
export class DashboardEvents {
  /** The newest dead letters by space, the space that failed last at the end. */
  private readonly letters = new Map<string, DashboardEvent[]>();
  /** Live feeds open by space. */
  private readonly feedsBySpace = new Map<string, number>();
  private readonly figures: FunctionFigures;
  private readonly clients = new Set<FeedStream>();
  private readonly timers: NodeJS.Timeout[];
  private readonly detach: () => void;
  /** Listens to what happens on every delivery: only while a feed is open. */
  private readonly busy: { attach(): void; detach(): void };
  private readonly limits: Required<DashboardEventsOptions>;

  constructor(gateway: DashboardEventSource, options: DashboardEventsOptions = {}) {
    const maxClients = positive(options.maxClients, 100, 'maxClients');
    this.limits = {
      deadLetters: positive(options.deadLetters, 100, 'deadLetters'),
      clientBuffer: positive(options.clientBuffer, 256, 'clientBuffer'),
      maxClients,
      maxClientsPerSpace: positive(
        options.maxClientsPerSpace,
        Math.max(1, Math.floor(maxClients / 10)),
        'maxClientsPerSpace',
      ),
      bucketMs: positive(options.bucketMs, 10_000, 'bucketMs'),
      buckets: positive(options.buckets, 30, 'buckets'),
      maxFunctions: positive(options.maxFunctions, 1000, 'maxFunctions'),
    };
    const received: Listener<'event.received'> = ({ space, event }) =>
      this.publish({
        kind: 'received',
        space,
        at: Date.now(),
        eventId: String(event.id).slice(0, CUT),
        type: cut(event.type),
        source: cut(event.source),
      });
    const invoked: Listener<'function.invoked'> = (e) => {
      this.figures.timed(e.space, e.functionId, e.durationMs);
      this.publish({
        kind: 'invoked',
        space: e.space,
        at: Date.now(),
        eventId: String(e.event.id).slice(0, CUT),
        type: cut(e.event.type),
        functionId: e.functionId,
        durationMs: e.durationMs,
        attempts: e.attempts,
      });
    };
    const failed: Listener<'function.invocationFailed'> = (e) => {
      const letter: DashboardEvent = {
        kind: 'failed',
        space: e.space,
        at: Date.now(),
        eventId: String(e.event.id).slice(0, CUT),
        type: cut(e.event.type),
        functionId: e.functionId,
        attempts: e.attempts,
        reason: cut(e.reason),
        code: cut(e.error?.code),
        ...(e.lastStatus !== undefined ? { lastStatus: e.lastStatus } : {}),
      };
      this.keepLetter(letter);
      this.publish(letter);
    };
    const refused: Listener<'event.refused'> = (e) =>
      this.publish({
        kind: 'refused',
        space: e.space,
        at: Date.now(),
        eventId: String(e.eventId).slice(0, CUT),
        reason: cut(e.reason),
        code: cut(e.code),
      });
    this.figures = new FunctionFigures(() => gateway.functionMetrics(), this.limits);
    // Failures and refusals are rare: always heard, for the dead letters. What every delivery
    // raises is heard only while a page watches: a listener makes the gateway build the payload.
    gateway.on('function.invocationFailed', failed);
    gateway.on('event.refused', refused);
    this.busy = {
      attach: () => {
        gateway.on('event.received', received);
        gateway.on('function.invoked', invoked);
      },
      detach: () => {
        gateway.off('event.received', received);
        gateway.off('function.invoked', invoked);
      },
    };
    this.detach = () => {
      if (this.clients.size > 0) this.busy.detach();
      gateway.off('function.invocationFailed', failed);
      gateway.off('event.refused', refused);
    };
    this.timers = [
      // A comment now and then keeps proxies from closing an idle feed.
      setInterval(() => {
        for (const client of this.clients) client.keepAlive();
      }, KEEP_ALIVE_MS).unref(),
      // Counts land in the bucket of their time (or close to it).
      setInterval(() => this.figures.sample(), Math.min(1000, this.limits.bucketMs)).unref(),
    ];
  }

  /** The newest dead letters of a space, oldest first. */
  deadLetters(space: string): DashboardEvent[] {
    return [...(this.letters.get(space) ?? [])];
  }

  /** Keeps a dead letter in its space's ring, the space moved to the end (it failed last). */
  private keepLetter(letter: DashboardEvent): void {
    const ring = this.letters.get(letter.space) ?? [];
    this.letters.delete(letter.space);
    this.letters.set(letter.space, ring);
    ring.push(letter);
    if (ring.length > this.limits.deadLetters) ring.shift();
    if (this.letters.size > MAX_LETTER_SPACES) {
      this.letters.delete(this.letters.keys().next().value as string);
    }
  }

  /** The figures of each function of a space over the kept buckets, oldest bucket first. */
  functionStats(space: string): { functionId: string; buckets: FunctionBucket[] }[] {
    return this.figures.of(space);
  }

  /** Live feeds open now. */
  get clientCount(): number {
    return this.clients.size;
  }

  /**
   * A live feed of the events of `spaces`, as server-sent events (`text/event-stream`), or
   * undefined when `maxClients` feeds are open already, or `maxClientsPerSpace` of one of the
   * spaces. Destroy the stream to end it.
   */
  open(spaces: ReadonlySet<string>): Readable | undefined {
    if (this.clients.size >= this.limits.maxClients) return undefined;
    const perSpace = this.limits.maxClientsPerSpace;
    for (const space of spaces)
      if ((this.feedsBySpace.get(space) ?? 0) >= perSpace) return undefined;
    for (const space of spaces)
      this.feedsBySpace.set(space, (this.feedsBySpace.get(space) ?? 0) + 1);
    const client = new FeedStream(spaces, this.limits.clientBuffer, () => {
      if (!this.clients.delete(client)) return;
      for (const space of spaces) {
        const open = (this.feedsBySpace.get(space) ?? 1) - 1;
        if (open > 0) this.feedsBySpace.set(space, open);
        else this.feedsBySpace.delete(space);
      }
      if (this.clients.size === 0) this.busy.detach();
    });
    if (this.clients.size === 0) this.busy.attach();
    this.clients.add(client);
    return client;
  }

  /** Stops listening and ends every feed. */
  close(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.detach();
    for (const client of this.clients) client.push(null);
    this.clients.clear();
    this.feedsBySpace.clear();
  }

  private publish(line: DashboardEvent): void {
    if (this.clients.size === 0) return;
    const shared = { line, text: undefined as string | undefined };
    for (const client of this.clients) client.offer(shared);
  }
}

type Listener<K extends keyof GatewayEvents> = (...args: GatewayEvents[K]) => void;

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new TypeError(`Dashboard: "${name}" must be a positive integer.`);
  }
  return value;
}

/** A line shared by every feed it goes to, serialized once, by the first that sends it. */
type SharedLine = { readonly line: DashboardEvent; text: string | undefined };

/**
 * One page's feed: lines wait in a bounded queue until the connection takes them (a push that
 * returns false stops the sending until the next read), and lines past the bound are counted
 * and dropped, the count sent as an `event: dropped` before the next line.
 */
class FeedStream extends Readable {
  private queue: SharedLine[] = [];
  private dropped = 0;
  private flowing = false;

  constructor(
    private readonly spaces: ReadonlySet<string>,
    private readonly limit: number,
    private readonly onEnd: () => void,
  ) {
    super({ highWaterMark: 16 * 1024 });
    // Tells the browser how long to wait before it reconnects.
    this.push('retry: 2000\n\n');
  }

  offer(shared: SharedLine): void {
    if (!this.spaces.has(shared.line.space)) return;
    if (this.queue.length >= this.limit) {
      this.dropped++;
      return;
    }
    this.queue.push(shared);
    if (this.flowing) this.send();
  }

  keepAlive(): void {
    if (this.flowing && this.queue.length === 0) this.flowing = this.push(': keep-alive\n\n');
  }

  override _read(): void {
    this.flowing = true;
    this.send();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.queue = [];
    this.onEnd();
    callback(error);
  }

  private send(): void {
    while (this.flowing && (this.queue.length > 0 || this.dropped > 0)) {
      if (this.dropped > 0) {
        this.flowing = this.push(`event: dropped\ndata: ${this.dropped}\n\n`);
        this.dropped = 0;
        continue;
      }
      const shared = this.queue.shift() as SharedLine;
      shared.text ??= `data: ${JSON.stringify(shared.line)}\n\n`;
      this.flowing = this.push(shared.text);
    }
  }
}
