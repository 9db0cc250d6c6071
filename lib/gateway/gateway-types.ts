import type { ConfigChange, InvalidRecord } from '../cache/catalog';
import type { WaitingFunction } from '../journal/waiting-deliveries';
import type { SystemEvents } from '../model/system-events';
import type { DeadLetter } from '../plugins/dead-letter';
import type { ConnectionHealth } from '../sources/connection-run';

/** What `close()` resolves with. */
export interface CloseReport {
  /** Deliveries the drain could not finish (each also went to `onDeadLetter`). */
  readonly undelivered: DeadLetter[];
}

/** What `gateway.health()` reports. */
export interface GatewayHealth {
  /**
   * True once the configuration is loaded (and while it is served, even with the store down) and,
   * with a journal, once it is open and while it records: false whenever `ready()` would reject.
   */
  readonly ready: boolean;
  /** The store revision the configuration reflects. */
  readonly revision: number;
  /** The store's name (`MemoryStore`, `EtcdStore`). */
  readonly store: string;
  /** True while the store watch is established; false while the gateway relists or the store is down. */
  readonly watching: boolean;
  /** Milliseconds since the store was last heard from (a watch event, a check, a listing). */
  readonly sinceHeardMs: number | undefined;
  /** How many times the configuration was relisted after the first load. */
  readonly resyncs: number;
  /** The last store failure, while it lasts. */
  readonly lastError?: string;
  /** Deliveries accepted and not finished. */
  readonly pendingDeliveries: number;
  /** The journal, with the `journal` option (`ready` is false while it is not open, or failed). */
  readonly journal?: JournalHealth;
  /** Each connection this instance runs: owned units, lag, last error (see `createConnection`). */
  readonly connections?: readonly ConnectionHealth[];
}

/** What `gateway.health().journal` reports. */
export interface JournalHealth {
  /** Unfinished deliveries it holds. */
  readonly entries: number;
  /** Bytes of the records it holds, for a journal that counts them (the local one: `maxBytes`). */
  readonly bytes?: number;
  /** Records that could not be read, set aside (kept for inspection) or passed over. */
  readonly damaged: number;
  /** Deliveries it handed back that wait for their function to be configured or bound here. */
  readonly waiting: number;
  /** The functions they wait for (the 100 with the most), and what each lacks. */
  readonly waitingFor?: readonly WaitingFunction[];
  /** Why it could not open, or why it refuses every record now. */
  readonly lastError?: string;
}

/** Events a gateway emits locally (through eventemitter3), with their arguments. */
export interface GatewayEvents extends SystemEvents {
  /** Configuration changed (by this instance or another); `revision` is the cache's new revision. */
  'config.changed': [changes: ConfigChange[], revision: number];
  /** A stored value could not be used (not JSON, wrong ID); it is left out of routing. */
  'config.invalid': [invalid: InvalidRecord];
  /** The store failed; the gateway keeps serving its last good configuration and retries. */
  'store.error': [error: Error];
  /** The cache relisted the store; `repaired` counts the differences it applied. */
  'store.resync': [reason: string, repaired: number];
  /** A failure with no caller to report to (an `onDeadLetter` hook that threw). */
  'gateway.error': [error: Error];
}
