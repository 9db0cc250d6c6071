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
 * kafkajs's `Kafka` class whose consumers run the gateway's runner, or undefined when kafkajs has
 * another layout (then the stock class serves). kafkajs 2.2.4 (its last release) can spin forever
 * once a consumer stops while its brokers change: the stopped runner's `fetch` answers `[]` at once
 * and the fetch manager, rebalancing its fetchers, starts new ones that never wait on I/O
 * (tulios/kafkajs#1384, #1387; the fix #1428 was never merged). Seen here as a hung process at 95%
 * CPU when brokers died. The gateway's runner makes a stopped runner's fetch fail, not succeed
 * empty: its fetchers end, and the consumer crashes out of the loop.
 *
 * The fix used to patch `Runner.prototype.fetch`, which changed every kafkajs consumer in the
 * process, the host application's own included. Now the runner is a subclass, and only two kafkajs
 * modules are evaluated again to use it: the consumer factory (which names the runner class) and the
 * `Kafka` class (which names the consumer factory). Everything else (errors, clusters, protocol) is
 * the one shared copy, so `instanceof` checks on kafkajs errors still hold.
 *
 * @example
 * ```ts
 * const Kafka = gatewayKafkaClass() ?? require('kafkajs').Kafka;
 * ```
 */
export function gatewayKafkaClass(): KafkaClass | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- kafkajs internals
    const SharedRunner = require('kafkajs/src/consumer/runner') as RunnerClass;
    if (typeof SharedRunner.prototype.fetch !== 'function') return undefined;
    const createConsumer = loadPrivately(require.resolve('kafkajs/src/consumer/index.js'), {
      './runner': gatewayRunnerClass(SharedRunner),
    });
    const kafka = loadPrivately(require.resolve('kafkajs/src/index.js'), {
      './consumer': createConsumer,
    });
    return typeof kafka === 'function' ? (kafka as KafkaClass) : undefined;
  } catch {
    return undefined;
  }
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
