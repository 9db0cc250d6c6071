import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { compileFunction } from 'node:vm';

/** What kafkajs's consumer runner offers that the gateway's subclass uses. */
interface Runner {
  running: boolean;
  fetch(nodeId: number): Promise<unknown[]>;
}

type RunnerClass = new (options: Record<string, unknown>) => Runner;

/** What kafkajs's per-connection request queue offers that the gateway's subclass uses. */
interface RequestQueue {
  pending: unknown[];
  throttledUntil: number;
  scheduleCheckPendingRequests(): void;
}

type RequestQueueClass = new (options: Record<string, unknown>) => RequestQueue;

/** kafkajs's `Kafka` class, typed where it is used (lib/clients/kafka-client.ts). */
type KafkaClass = new (config: Record<string, unknown>) => unknown;

/**
 * A CommonJS module of kafkajs evaluated again, privately: its own `require` answers `overrides`
 * first and the shared module graph (the host's own kafkajs) for everything else. Nothing shared is
 * modified; only this copy sees the overrides.
 */
function loadPrivately(file: string, overrides: Record<string, unknown>): unknown {
  const shared = createRequire(file);
  const local = Object.assign((id: string) => (id in overrides ? overrides[id] : shared(id)), {
    resolve: shared.resolve,
  });
  const module = { exports: {} as unknown };
  const body = compileFunction(
    readFileSync(file, 'utf8'),
    ['exports', 'require', 'module', '__filename', '__dirname'],
    { filename: file },
  );
  body.call(module.exports, module.exports, local, module, file, dirname(file));
  return module.exports;
}

/**
 * kafkajs's `Kafka` class whose consumers run the gateway's runner and whose connections queue
 * requests in the gateway's request queue, or undefined when kafkajs has another layout (then the
 * stock class serves).
 *
 * The runner: kafkajs 2.2.4 (its last release) can spin forever once a consumer stops while its
 * brokers change: the stopped runner's `fetch` answers `[]` at once and the fetch manager,
 * rebalancing its fetchers, starts new ones that never wait on I/O (tulios/kafkajs#1384, #1387;
 * the fix #1428 was never merged). Seen here as a hung process at 95% CPU when brokers died. The
 * gateway's runner makes a stopped runner's fetch fail, not succeed empty: its fetchers end, and
 * the consumer crashes out of the loop.
 *
 * The request queue: see {@link gatewayRequestQueueClass}.
 *
 * The runner fix used to patch `Runner.prototype.fetch`, which changed every kafkajs consumer in
 * the process, the host application's own included. Now both are subclasses, and only the kafkajs
 * modules that name them, up to the `Kafka` class, are evaluated again to use them: the consumer
 * factory (names the runner), the connection (names the request queue), the connection pool, its
 * builder and the cluster (each names the one before), and the `Kafka` class (names the consumer
 * factory and the cluster). Everything else (errors, protocol, brokers) is the one shared copy, so
 * `instanceof` checks on kafkajs errors still hold.
 *
 * @example
 * ```ts
 * const Kafka = gatewayKafkaClass() ?? require('kafkajs').Kafka;
 * ```
 */
export function gatewayKafkaClass(): KafkaClass | undefined {
  try {
    /* eslint-disable @typescript-eslint/no-require-imports -- kafkajs internals */
    const SharedRunner = require('kafkajs/src/consumer/runner') as RunnerClass;
    const SharedQueue = require('kafkajs/src/network/requestQueue') as RequestQueueClass;
    /* eslint-enable @typescript-eslint/no-require-imports */
    if (typeof SharedRunner.prototype.fetch !== 'function') return undefined;
    if (typeof SharedQueue.prototype.scheduleCheckPendingRequests !== 'function') return undefined;
    const own = (path: string, overrides: Record<string, unknown>) =>
      loadPrivately(require.resolve(`kafkajs/src/${path}`), overrides);
    const createConsumer = own('consumer/index.js', {
      './runner': gatewayRunnerClass(SharedRunner),
    });
    const connection = own('network/connection.js', {
      './requestQueue': gatewayRequestQueueClass(SharedQueue),
    });
    const connectionPool = own('network/connectionPool.js', { './connection': connection });
    const builder = own('cluster/connectionPoolBuilder.js', {
      '../network/connectionPool': connectionPool,
    });
    const cluster = own('cluster/index.js', { './connectionPoolBuilder': builder });
    const kafka = own('index.js', { './consumer': createConsumer, './cluster': cluster });
    return typeof kafka === 'function' ? (kafka as KafkaClass) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The gateway's request queue: kafkajs's, except that it sets no timer when there is nothing to
 * check. kafkajs 2.2.4 checks its pending requests after every answer and then schedules the next
 * check at `throttledUntil - Date.now()`, which is hugely negative when the broker never
 * throttled: Node runs that timer after 1 ms, whose check schedules the next one. Every
 * connection so wakes the process ~1,000 times a second, idle or not (measured on the mock
 * cluster: 700-1,600 timers and 31-42 ms of CPU per idle second for one connected producer, 2-4 ms
 * with this queue, Node 20 and 24), and Node 24 prints `TimeoutNegativeWarning` for it
 * (tulios/kafkajs#1751, fixed only in forks). A request queued later schedules its own check
 * (`push`), and every answer checks again, so with nothing pending and no throttle the timer has
 * nothing to do.
 *
 * @example
 * ```ts
 * const GatewayQueue = gatewayRequestQueueClass(require('kafkajs/src/network/requestQueue'));
 * ```
 */
export function gatewayRequestQueueClass(SharedQueue: RequestQueueClass): RequestQueueClass {
  return class GatewayRequestQueue extends SharedQueue {
    override scheduleCheckPendingRequests(): void {
      if (this.pending.length === 0 && this.throttledUntil <= Date.now()) return;
      super.scheduleCheckPendingRequests();
    }
  };
}

/**
 * The gateway's runner: kafkajs's, except that a stopped runner's fetch fails (see
 * {@link gatewayKafkaClass}).
 *
 * @example
 * ```ts
 * const GatewayRunner = gatewayRunnerClass(require('kafkajs/src/consumer/runner'));
 * ```
 */
export function gatewayRunnerClass(SharedRunner: RunnerClass): RunnerClass {
  return class GatewayRunner extends SharedRunner {
    override fetch(nodeId: number): Promise<unknown[]> {
      if (this.running) return super.fetch(nodeId);
      const stopped = Object.assign(new Error('The consumer stopped.'), { retriable: false });
      return Promise.reject(stopped);
    }
  };
}
