import {
  createGateway,
  MemoryStore,
  type DeadLetter,
  type Gateway,
  type GatewayOptions,
  type RetryOptions,
} from '../../lib';

/**
 * Gateways for delivery tests, closed after each test: fast retries by default and every dead
 * letter collected.
 */
export function deliveryGateways(retry: RetryOptions) {
  const gateways: Gateway[] = [];
  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((g) => g.close()));
  });
  return async (options: GatewayOptions = {}, store = new MemoryStore()) => {
    const deadLetters: DeadLetter[] = [];
    const gateway = createGateway(store, {
      resyncInterval: 0,
      retry,
      onDeadLetter: (letter) => void deadLetters.push(letter),
      ...options,
    });
    gateways.push(gateway);
    await gateway.ready();
    return { gateway, deadLetters, store };
  };
}
