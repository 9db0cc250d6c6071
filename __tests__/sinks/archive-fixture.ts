import {
  createGateway,
  MemoryStore,
  type CloudEvent,
  type Gateway,
  type GatewayOptions,
} from '../../lib';

/** A gateway with one recording function subscribed to `user.created` and `order.placed`. */
export async function recordingGateway(
  options: GatewayOptions = {},
  spaces: string[] = ['default'],
): Promise<{ gateway: Gateway; received: CloudEvent[] }> {
  const received: CloudEvent[] = [];
  const gateway = createGateway(new MemoryStore(), {
    resyncInterval: 0,
    functionConcurrency: 1,
    ...options,
  });
  for (const space of spaces) {
    await gateway.registerFunction({
      space,
      functionId: 'recorder',
      handler: (event) => void received.push(event as CloudEvent),
    });
    for (const name of ['user.created', 'order.placed']) {
      await gateway.createEventType({ space, name });
      await gateway.subscribe({ space, eventType: name, functionId: 'recorder' });
    }
  }
  return { gateway, received };
}

export const event = (id: string, type = 'user.created'): CloudEvent => ({
  specversion: '1.0',
  id,
  source: '/archive-test',
  type,
  data: { id, text: 'x'.repeat(50) },
});

/** Until `check` holds (polled), or fails after `ms`. */
export async function until(check: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Until the gateway has no delivery pending. */
export function settled(gateway: Gateway): Promise<void> {
  return until(() => gateway.metrics().deliveriesPending === 0, 10_000, 'deliveries');
}

/** The archive's figures, by plugin name. */
export function archiveStats(gateway: Gateway, name: string): Record<string, number> {
  const plugin = gateway.metrics().plugins.find((p) => p.name === name);
  if (!plugin?.stats) throw new Error(`no plugin "${name}"`);
  return plugin.stats;
}
