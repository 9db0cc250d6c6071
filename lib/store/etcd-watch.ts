import { StoreUnavailableError, type GatewayError } from '../errors';
import type { RewatchPacer } from '../model/rewatch-pacer';
import type { WatchStreamHandlers } from './etcd-watch-stream';
import type { Watch, WatchChange, WatchEvent, WatchListener } from './store';

/** What {@link etcdWatch} needs of its store. */
export interface EtcdWatchHost {
  /** How often the watch checks it has not gone silent, in ms (0: never). */
  readonly watchCheckInterval: number;
  /**
   * Paces the store's watches (`ETCD_RETRY_BACKOFF`: 25 ms doubling to 1 s): their owner relists
   * and watches again at once, and against a peer that ends every watch as soon as it is created
   * (RST_STREAM, GOAWAY) that loop spun at hundreds of connections a second.
   */
  readonly pacer: RewatchPacer;
  /** Opens the stream of a watch of every key under `prefix` from `fromRevision`. */
  openStream(prefix: string, fromRevision: number, handlers: WatchStreamHandlers): Watch;
  /** The newest mod_revision under `prefix` (0: none), by a linearizable read. */
  latestRevision(prefix: string): Promise<number>;
  /** An error of the stream as the store's. */
  convert(error: unknown): GatewayError;
  /** Holds `stop` while the watch runs (the store's close stops it), or lets it go. */
  track(stop: () => void, running: boolean): void;
}

/**
 * One EtcdStore watch: the contract's events from an etcd watch stream, ending (for the owner to
 * relist) on any stream failure or cancel, revision going backwards, another cluster (`cluster`:
 * the one the owner listed), or silence: a change the store had at one check and the watch has
 * not delivered by the next.
 *
 * @example
 * ```ts
 * const watch = etcdWatch(host, '/a/', revision + 1, clusterId, (event) => apply(event));
 * ```
 */
export function etcdWatch(
  host: EtcdWatchHost,
  prefix: string,
  fromRevision: number,
  cluster: string | undefined,
  listener: WatchListener,
): Watch {
  let ended = false;
  let delivered = fromRevision - 1;
  /** A revision the previous check saw in the store: the watch must have reached it since. */
  let awaited = 0;
  /**
   * The listener's throw must not escape into a socket's callback or the silence check's timer
   * (an uncaught exception or unhandled rejection: a crash). A batch it threw on may be half
   * applied: the watch ends with an error, for its owner to relist. A throw on that error, or on
   * a reset, has no one left to tell but the process's warnings.
   */
  const deliver = (event: WatchEvent) => {
    try {
      listener(event);
    } catch (error) {
      const report = new StoreUnavailableError(
        `The etcd watch listener threw: ${(error as Error)?.message ?? String(error)}`,
        { cause: error },
      );
      if (event.type !== 'changes' || ended) process.emitWarning(report);
      else end({ type: 'error', error: report });
    }
  };
  const end = (event: WatchEvent) => {
    if (ended) return;
    stop();
    host.pacer.ended(openedAt, changed);
    deliver(event);
  };
  const stop = () => {
    if (ended) return;
    ended = true;
    clearTimeout(opening);
    clearInterval(check);
    host.track(stop, false);
    stream?.close();
  };
  let stream: Watch | undefined;
  let openedAt = Date.now();
  let changed = false;
  const open = () => {
    openedAt = Date.now();
    stream = host.openStream(prefix, fromRevision, handlers);
  };
  const handlers: WatchStreamHandlers = {
    created: (res) => {
      if (res.revision < fromRevision - 1) {
        end({
          type: 'reset',
          reason: `the store's revision went backwards (${res.revision} < ${fromRevision - 1})`,
        });
      } else if (cluster !== undefined && res.clusterId !== cluster) {
        end({ type: 'reset', reason: 'the store answers from another cluster' });
      }
    },
    response: (res) => {
      if (ended) return;
      if (cluster !== undefined && res.clusterId !== cluster) {
        end({ type: 'reset', reason: 'the store answers from another cluster' });
        return;
      }
      const { changes } = res;
      // A progress notification carries no event: everything up to its revision was sent.
      let revision = changes.length === 0 ? res.revision : delivered;
      for (const change of changes) revision = Math.max(revision, modRevisionOf(change));
      delivered = Math.max(delivered, revision);
      if (changes.length > 0) changed = true;
      deliver({ type: 'changes', revision: delivered, changes });
    },
    canceled: (reason) => end({ type: 'reset', reason: `etcd canceled the watch (${reason})` }),
    failed: (error) => end({ type: 'error', error: host.convert(error) }),
  };
  const wait = host.pacer.wait();
  const opening = wait > 0 ? setTimeout(open, wait) : undefined;
  if (!opening) open();

  let checking = false;
  const silenceCheck = async () => {
    // One check at a time: a peer that never answers would otherwise have one more read in
    // flight each interval, until `requestTimeout`.
    if (checking) return;
    checking = true;
    let latest: number;
    try {
      latest = await host.latestRevision(prefix);
    } catch {
      return; // unreachable: the watch reports its own disconnection
    } finally {
      checking = false;
    }
    if (ended) return;
    if (awaited > delivered) {
      // A whole interval later, the watch still has not delivered what the store had.
      end({
        type: 'error',
        error: new StoreUnavailableError(
          `The etcd watch went silent: the change at revision ${awaited} never arrived (last delivered ${delivered}).`,
        ),
      });
      return;
    }
    // Under a steady write load the watch trails the store by a moment: only a change that is
    // still missing at the next check counts.
    awaited = latest > delivered ? latest : 0;
    // Heard from the store: tell the listener it is alive (no change, same revision).
    if (awaited === 0) deliver({ type: 'changes', revision: delivered, changes: [] });
  };
  const check =
    host.watchCheckInterval > 0
      ? setInterval(() => void silenceCheck(), host.watchCheckInterval)
      : undefined;
  check?.unref();
  host.track(stop, true);
  return { close: stop };
}

function modRevisionOf(change: WatchChange): number {
  return change.type === 'put' ? change.kv.modRevision : change.modRevision;
}
