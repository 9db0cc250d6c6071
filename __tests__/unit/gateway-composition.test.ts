import { inspect } from 'node:util';
import { ConfigurationApi, createGateway, Gateway, MemoryStore } from '../../lib';

// createGateway is a composition root: a Gateway holds its configuration API rather than being one,
// and answers every configuration method as before.

test('a gateway composes its configuration API and answers its methods', async () => {
  const gateway = createGateway(new MemoryStore());
  expect(gateway).toBeInstanceOf(Gateway);
  expect(gateway).not.toBeInstanceOf(ConfigurationApi);
  await gateway.ready();
  await gateway.createEventType({ name: 'user.created' });
  await gateway.registerFunction({ functionId: 'f', handler: () => 'ok' });
  await gateway.subscribe({ eventType: 'user.created', functionId: 'f' });
  expect(gateway.listEventTypes().map((t) => t.name)).toEqual(['user.created']);
  expect(gateway.listSubscriptions()).toHaveLength(1);
  expect(gateway.listSpaces()).toEqual(['default']);
  // Methods of the prototype, as a class's are: not the instance's own keys.
  expect(Object.keys(gateway)).not.toContain('registerFunction');
  expect(Object.getOwnPropertyDescriptor(Gateway.prototype, 'registerFunction')?.enumerable).toBe(
    false,
  );
  expect(inspect(gateway)).toMatch(/^Gateway \{ space: 'default', store: MemoryStore, ready, /);
  await gateway.close();
  await expect(gateway.registerFunction({ functionId: 'g', handler: () => 'ok' })).rejects.toThrow(
    /closed/,
  );
});
