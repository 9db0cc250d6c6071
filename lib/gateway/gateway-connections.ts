import type { ConfigurationApi } from '../config/configuration-api';
import { GatewayClosedError } from '../errors';
import { describeError } from '../model/describe-error';
import type { Admitted } from '../pipeline/screen';
import type { EmitResult } from '../pipeline/emit-options';
import type { Pipeline } from '../pipeline/pipeline';
import type { AcceptedEvent } from '../plugins/accepted-event';
import type { IntakeVia } from '../plugins/intake-plugin';
import type { ConnectionHealth } from '../sources/connection-run';
import type { ChangedRecord, ConnectionRunner } from '../sources/connection-runner';
import type { Store } from '../store/store';
import { acceptTraceOf } from '../tracing/accept-trace';
import type { ConnectionsOptions, ResolvedGatewayOptions } from '../options';

/** What a gateway's connections need of it. */
export interface ConnectionsHost {
  /** The gateway's resolved options (`connections`, `limits`, `outboundPolicies`). */
  readonly options: ResolvedGatewayOptions;
  /** The gateway's store: leases live beside the configuration. */
  readonly store: Store;
  /** Its configuration: the connection records, the lease prefix, whether it is closed. */
  readonly config: ConfigurationApi;
  /** Its pipeline: screening, `connection.refused`, dead-letter calls. */
  readonly pipeline: Pipeline;
  /** The gateway's `accept` (see Gateway.accept). */
  accept(
    input: unknown,
    where: { space: string; method: string; path: string },
    via: IntakeVia,
  ): AcceptedEvent;
  /** The gateway's `dispatch` (see Gateway.dispatch). */
  dispatch(admitted: Admitted): Promise<EmitResult>;
  /** The gateway's `reportError`. */
  reportError(error: Error): void;
}

/**
 * The connections a gateway runs (unless `connections: false`). Their runner, the sources and
 * their clients are loaded when the configuration first holds a connection: a gateway that runs
 * none never loads them (dist/lazy.js, see scripts/build.js). Events from a connection enter the
 * pipeline as the Events API's do (parsed once with the gateway's limits, gateway-only extensions
 * refused, screened by the plugins as `via: 'source'`); what it refuses is raised as
 * `connection.refused`.
 * @example
 * ```ts
 * const connections = new GatewayConnections({ options, store, config, pipeline, accept, dispatch, reportError });
 * cache.on('changes', () => connections.apply(applied)); // after the catalog applied them
 * cache.start();
 * connections.startOnceReady();
 * ```
 */
export class GatewayConnections {
  private runner: ConnectionRunner | undefined;
  private closed = false;

  constructor(private readonly host: ConnectionsHost) {}

  /** Starts the connections once the configuration that names them is loaded (call it once). */
  startOnceReady(): void {
    const { config } = this.host;
    config.ready().then(
      () => (config.closed ? undefined : this.start()),
      () => undefined, // ready() reports its own failure to whoever awaits it
    );
  }

  /** Applies configuration changes (after the catalog applied them). */
  apply(changes: readonly ChangedRecord[]): void {
    if (this.runner === undefined && !changes.some((change) => change.resource === 'connection')) {
      return; // no connection changed, none runs: nothing to load
    }
    this.running()?.apply(changes);
  }

  /** Each running connection's state (none before a connection is configured). */
  health(): ConnectionHealth[] {
    return this.runner?.health() ?? [];
  }

  /** Stops every connection (each waits for what it has in flight, up to `drainTimeout`). */
  async close(): Promise<void> {
    this.closed = true;
    await this.runner?.close();
  }

  /** Starts a run for every connection the loaded configuration holds. */
  private start(): void {
    if (this.runner === undefined && this.host.config.catalog.count('connections') === 0) return;
    this.running()?.start();
  }

  /** The runner, created (and its code loaded) on first need; none once closed. */
  private running(): ConnectionRunner | undefined {
    if (this.runner !== undefined || this.closed) return this.runner;
    const { host } = this;
    const { catalog } = host.config;
    const resolved = host.options;
    type Runner = typeof import('../sources/connection-runner');
    let ConnectionRunner: Runner['ConnectionRunner'];
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy on purpose
      ({ ConnectionRunner } = require('../sources/connection-runner') as Runner);
    } catch (error) {
      // A package file left out (a host's bundler, say): this runs in the configuration cache's
      // listener, which must not throw. Reported; tried again at the next connection change.
      host.reportError(
        new Error(`The connections could not be loaded: ${describeError(error)}`, { cause: error }),
      );
      return undefined;
    }
    this.runner = new ConnectionRunner({
      ...(resolved.connections as ConnectionsOptions),
      minScheduleInterval: resolved.limits.minScheduleInterval,
      connections: {
        all: () => catalog.spaces().flatMap((space) => catalog.list('connections', space)),
        get: (space, connectionId) => catalog.get('connections', space, connectionId),
      },
      store: host.store,
      leasePrefix: host.config.leasePrefix,
      entry: async (event, { space }) => {
        const accepted = host.accept(event, { space, method: 'POST', path: '/' }, 'source');
        try {
          if (host.config.closed) throw new GatewayClosedError('The gateway is closed.');
          // One event: the screen stage's own path (synchronous without screening plugins).
          return await host.dispatch(await host.pipeline.screen(accepted));
        } catch (error) {
          acceptTraceOf(accepted)?.failed(error); // refused before its dispatch (closing)
          throw error;
        }
      },
      // Held on every connect to the policy its writer was held to when it was written.
      outbound: (record) => resolved.outboundPolicies.forWriter(record.space, record.writer),
      refused: (notice) => host.pipeline.connectionRefused(notice),
      deadLetter: (space, functionId, event) => host.pipeline.call(space, functionId, event),
      reportError: (error) => host.reportError(error),
    });
    return this.runner;
  }
}
