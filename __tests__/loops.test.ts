import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createEventsHandler, type CloudEvent, type Gateway } from '../lib';
import { cloudEvent } from './helpers/events';
import { gatewayFixture } from './helpers/gateway';

const newGateway = gatewayFixture();

test('two local functions emitting each other’s events are stopped at maxHops, reported and counted', async () => {
  const { gateway } = await newGateway(undefined, { maxHops: 5 });
  const hops: number[] = [];
  const failures: unknown[] = [];
  const bounce = (next: string) => async (event: unknown) => {
    const e = event as CloudEvent;
    hops.push(e.hopcount as number);
    // A function emitting a new event from the one it got: the extensions go with it.
    await gateway
      .emit({ ...e, id: `${e.id}+`, type: next })
      .catch((error: unknown) => failures.push(error));
  };
  await gateway.registerFunction({ functionId: 'ping', handler: bounce('pong') });
  await gateway.registerFunction({ functionId: 'pong', handler: bounce('ping') });
  for (const name of ['ping', 'pong']) await gateway.createEventType({ name });
  await gateway.subscribe({ eventType: 'ping', functionId: 'ping' });
  await gateway.subscribe({ eventType: 'pong', functionId: 'pong' });
  // A function can watch for loops like for any system event.
  const watched: CloudEvent[] = [];
  await gateway.registerFunction({
    functionId: 'watch',
    handler: (e) => void watched.push(e as CloudEvent),
  });
  await gateway.subscribe({ eventType: 'eventgateway.event.refused', functionId: 'watch' });
  const refused: { code: string; eventId: string }[] = [];
  gateway.on('event.refused', (e) => void refused.push(e));

  await gateway.emit(cloudEvent('ping'));
  while (failures.length === 0) await new Promise((r) => setTimeout(r, 2));

  expect(hops).toEqual([0, 1, 2, 3, 4, 5]);
  expect(failures).toEqual([expect.objectContaining({ code: 'HOP_LIMIT', status: 422 })]);
  expect(refused).toEqual([expect.objectContaining({ code: 'HOP_LIMIT' })]);
  expect(gateway.metrics().eventsLooped).toBe(1);
  while (watched.length === 0) await new Promise((r) => setTimeout(r, 2));
  expect(watched[0]).toMatchObject({
    type: 'eventgateway.event.refused',
    data: { code: 'HOP_LIMIT', space: 'default' },
  });
});

test('the Events API answers 422 for an event past the limit, and accepts one at it', async () => {
  const { gateway } = await newGateway(undefined, { maxHops: 3 });
  await gateway.createEventType({ name: 'user.created' });
  const server = createServer(createEventsHandler(gateway as Gateway));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const post = (hopcount: unknown) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({ ...cloudEvent('user.created'), hopcount }),
    });
  try {
    expect((await post(2)).status).toBe(202);
    const refused = await post(3);
    expect(refused.status).toBe(422);
    expect(await refused.text()).toMatch(/more than 3 times/);
    expect((await post('many')).status).toBe(400);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});
