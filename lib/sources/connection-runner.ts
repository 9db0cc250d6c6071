import { TurnsByKey } from '../model/turns-by-key';
import { randomUUID } from 'node:crypto';
import type { CloudEvent } from '../model/cloud-event';
import type { ConnectionRefusedNotice } from '../model/system-events';
import type { ConnectionRecord } from '../model/connection';
import type { OutboundCheck } from '../model/outbound-policy';
import { describeError } from '../model/describe-error';
import type { ExponentialDelayOptions } from '../model/exponential-delay';
import type { Store } from '../store/store';
import { ConnectionRun, type ConnectionHealth, type SourceEntry } from './connection-run';
import { DEFAULT_MAX_MESSAGE_BYTES } from './message-event';
import type { SourceFactory } from './source';
import { builtInSource } from './source-loader';
import { StoreLeases } from './store-leases';

/** The connections as this instance's configuration cache has them (records with secrets). */
export interface ConnectionCatalog {
  /** Every connection, in every space. */
  all(): Iterable<ConnectionRecord>;
  get(space: string, connectionId: string): ConnectionRecord | undefined;
}

/** A configuration change, as far as the runner cares: which record changed. */
export interface ChangedRecord {
  readonly resource: string;
  readonly space: string;
  readonly id: string;
}

/** Options of a {@link ConnectionRunner}. */
export interface ConnectionRunnerOptions {
  readonly connections: ConnectionCatalog;
  /** The gateway's store: leases live beside the configuration, under `leasePrefix`. */
  readonly store: Store;
  /** The key prefix of leases (the key layout's `leasePrefix`). */
  readonly leasePrefix: string;
  /** Where events enter the gateway (its `emit`, `via: 'source'`). */
  readonly entry: SourceEntry;
  /** Raises the `connection.refused` system event. */
  readonly refused?: (notice: ConnectionRefusedNotice) => void;
  /** Sends a refused message's event to a connection's dead-letter function. */
  readonly deadLetter?: (space: string, functionId: string, event: CloudEvent) => Promise<unknown>;
  /** Failures with no caller (a source that cannot connect): the gateway's `reportError`. */
  readonly reportError: (error: Error) => void;
  /**
   * Source factories by type, replacing or adding to the built-in ones (tests, plug-ins).
   * @default the built-in sources, each loaded on first use
   */
  readonly sources?: Readonly<Record<string, SourceFactory>>;
  /**
   * The outbound policy a connection is held to when its source connects (its writer's: the
   * host's, or the tenants' chain for a tenant's connection), checked on the addresses its hosts
   * resolve to at each connect. @default none (no check at connect time)
   */
  readonly outbound?: (record: ConnectionRecord) => OutboundCheck | undefined;
  /** This instance's ID in leases. @default a random UUID */
  readonly instanceId?: string;
  /**
   * How long a lease lasts without renewal, in ms: a dead instance's units move within it.
   * @default 15000
   */
  readonly leaseTtl?: number;
  /** The largest message taken; larger ones are refused. @default 1048576 (1 MiB) */
  readonly maxMessageBytes?: number;
  /** Delays between retries. @default { initialDelay: 50, maxDelay: 5000 } */
  readonly retry?: ExponentialDelayOptions;
  /** How long `close()` waits for events in flight. @default 5000 */
  readonly drainTimeout?: number;
  /**
   * The gateway's `limits.minScheduleInterval`: a schedule stored with ticks closer than this
   * (written before the limit was set, or around the gateway) fires only the first tick of each
   * such interval. @default none
   */
  readonly minScheduleInterval?: number;
}

/**
 * Runs every connection on this instance: starts a run for each connection the configuration
 * holds, restarts it when its record changes and stops it when it is deleted. Each run pulls
 * from its source, enters each message's event through `entry`, and acknowledges it only once it
 * is accepted. Units of work only one instance may run are shared through leases in the store.
 * @example
 * ```ts
 * const runner = new ConnectionRunner({ connections, store, leasePrefix, entry, reportError });
 * runner.start();
 * cache.on('changes', () => runner.apply(applied)); // after the catalog applied them
 * ```
 */
export class ConnectionRunner {
  private readonly runs = new Map<string, ConnectionRun>();
  /** Per connection, its starts and stops: changes to one connection apply in order. */
  private readonly turns = new TurnsByKey();
  private readonly instanceId: string;
  private closed = false;

  constructor(private readonly options: ConnectionRunnerOptions) {
    this.instanceId = options.instanceId ?? randomUUID();
  }

  /** Starts a run for every connection the configuration holds now. */
  start(): void {
    for (const record of this.options.connections.all()) {
      this.reconcile(record.space, record.connectionId);
    }
  }

  /** Applies configuration changes (after the cache's catalog applied them). */
  apply(changes: readonly ChangedRecord[]): void {
    for (const change of changes) {
      if (change.resource === 'connection') this.reconcile(change.space, change.id);
    }
  }

  /** Each running connection's state, counts, owned units and last error, by space and ID. */
  health(): ConnectionHealth[] {
    return [...this.runs.values()]
      .map((run) => run.health())
      .sort((a, b) =>
        a.space === b.space
          ? a.connectionId.localeCompare(b.connectionId)
          : a.space.localeCompare(b.space),
      );
  }

  /** Stops every run (each waits for what it has in flight, up to `drainTimeout`). */
  async close(): Promise<void> {
    this.closed = true;
    await this.turns.settled();
    await Promise.all([...this.runs.values()].map((run) => this.closeRun(run)));
    this.runs.clear();
  }

  private reconcile(space: string, connectionId: string): void {
    const key = `${space}/${connectionId}`;
    // Nothing waits on a turn: its failure is reported here, never left unhandled.
    void this.turns
      .inTurn(key, () => this.update(key, space, connectionId))
      .catch((error: unknown) => this.report(space, connectionId, error));
  }

  /** Closes a run; a source whose close() throws is reported, and the run is gone all the same. */
  private async closeRun(run: ConnectionRun): Promise<void> {
    try {
      await run.close();
    } catch (error) {
      this.report(run.record.space, run.record.connectionId, error);
    }
  }

  private report(space: string, connectionId: string, error: unknown): void {
    this.options.reportError(
      new Error(`Connection ${connectionId} (space ${space}): ${describeError(error)}`, {
        cause: error,
      }),
    );
  }

  private async update(key: string, space: string, connectionId: string): Promise<void> {
    const record = this.closed ? undefined : this.options.connections.get(space, connectionId);
    const running = this.runs.get(key);
    // Records from the cache are frozen and replaced on change: the same object is unchanged.
    if (running?.record === record) return;
    if (running) {
      this.runs.delete(key);
      // A close that fails still lets the new record start: the connection keeps running.
      await this.closeRun(running);
    }
    if (!record || this.closed) return;
    const outbound = this.options.outbound?.(record);
    const run = new ConnectionRun(record, {
      entry: this.options.entry,
      ...(outbound ? { outbound } : {}),
      factory: this.factory(record),
      leases: new StoreLeases(
        this.options.store,
        `${this.options.leasePrefix}${space}/${connectionId}/`,
        this.instanceId,
        this.options.leaseTtl ?? 15_000,
      ),
      refused: this.options.refused ?? (() => undefined),
      deadLetter: this.options.deadLetter,
      reportError: this.options.reportError,
      maxMessageBytes: this.options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      retry: this.options.retry ?? { initialDelay: 50, maxDelay: 5000 },
      drainTimeout: this.options.drainTimeout ?? 5000,
      minScheduleInterval: this.options.minScheduleInterval,
    });
    this.runs.set(key, run);
    run.start();
  }

  private factory(record: ConnectionRecord): SourceFactory {
    const given = this.options.sources;
    if (given && Object.hasOwn(given, record.type)) return given[record.type];
    return (context) => {
      try {
        return builtInSource(record.type)(context);
      } catch (error) {
        throw new Error(`the "${record.type}" source cannot start: ${describeError(error)}`, {
          cause: error,
        });
      }
    };
  }
}
