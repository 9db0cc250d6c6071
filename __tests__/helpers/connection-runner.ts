import { MemoryStore, type CloudEvent, type Gateway, type Store } from '../../lib';
import type { ConnectionRefusedNotice } from '../../lib/model/system-events';
import type { gatewayFixture } from './gateway';
import { KeyLayout } from '../../lib/model/key-layout';
import {
  ConnectionRunner,
  type ConnectionRunnerOptions,
} from '../../lib/sources/connection-runner';

/**
 * A ConnectionRunner wired to a gateway from outside, as the gateway will wire it: records (with
 * secrets) from its configuration, restarts on `config.changed`, events entered through `emit`.
 * Closed after each test.
 */
export function runnerFixture() {
  const made: ConnectionRunner[] = [];
  afterEach(async () => {
    await Promise.all(made.splice(0).map((runner) => runner.close()));
  });
  return (gateway: Gateway, store: Store, options: Partial<ConnectionRunnerOptions> = {}) => {
    const runner = new ConnectionRunner({
      connections: {
        all: () =>
          gateway
            .listSpaces()
            .flatMap((space) => gateway.listConnections({ space, secrets: true })),
        get: (space, connectionId) => {
          try {
            return gateway.getConnection({ space, connectionId, secrets: true });
          } catch {
            return undefined;
          }
        },
      },
      store,
      leasePrefix: new KeyLayout().leasePrefix,
      entry: (event, { space }) => gateway.emit(event, { space }),
      reportError: () => undefined,
      ...options,
    });
    gateway.on('config.changed', (changes) => runner.apply(changes));
    runner.start();
    made.push(runner);
    return runner;
  };
}

/** Polls until `check` is true (every 10 ms, up to `timeout`), or throws with `what`. */
export async function until(check: () => boolean, what: string, timeout = 10_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * A gateway on a memory store whose local function `sink` is subscribed to `eventType` (what it
 * receives is in `delivered`), with a runner whose refusals are in `notices`.
 */
export async function sinkSetUp(
  newGateway: ReturnType<typeof gatewayFixture>,
  newRunner: ReturnType<typeof runnerFixture>,
  eventType: string,
  options: Partial<ConnectionRunnerOptions> = {},
) {
  const store = new MemoryStore();
  // The runner above runs the connections: the gateway's own would run them a second time.
  const { gateway } = await newGateway(store, { connections: false });
  const delivered: CloudEvent[] = [];
  await gateway.registerFunction({
    functionId: 'sink',
    handler: (event) => void delivered.push(event as CloudEvent),
  });
  await gateway.createEventType({ name: eventType });
  await gateway.subscribe({ eventType, functionId: 'sink' });
  const notices: ConnectionRefusedNotice[] = [];
  const runner = newRunner(gateway, store, {
    refused: (notice) => void notices.push(notice),
    ...options,
  });
  return { store, gateway, runner, delivered, notices };
}
