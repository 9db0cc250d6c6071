import { HopLimitError, ValidationError } from '../../../lib/errors';
import { AcceptStage, Accepted } from '../../../lib/pipeline/accept';
import { outcomesFor, rawEvent } from './stages';

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

function stage(limits: { maxDataDepth?: number; maxHops?: number } = {}) {
  const { outcomes, heard } = outcomesFor();
  const accept = new AcceptStage({
    defaultSpace: 'default',
    maxDataDepth: limits.maxDataDepth ?? 64,
    maxHops: limits.maxHops ?? 10,
    outcomes,
  });
  return { accept, outcomes, heard };
}

describe('the accept stage', () => {
  test("parses with the gateway's data depth, not the parser's default", () => {
    const { accept } = stage({ maxDataDepth: 100 });
    expect(accept.accept(rawEvent({ data: nested(80) }), {}, 'http').event.data).toEqual(
      nested(80),
    );
    expect(() => accept.accept(rawEvent({ data: nested(101) }), {}, 'http')).toThrow(
      ValidationError,
    );
  });

  test('counts a hop, and refuses a loop before anything else sees it (counted and reported)', () => {
    const { accept, outcomes, heard } = stage({ maxHops: 2 });
    expect(accept.accept(rawEvent({ hopcount: 1 }), {}, 'emit').event.hopcount).toBe(2);
    expect(() => accept.accept(rawEvent({ hopcount: 2 }), { space: 'tenant' }, 'batch')).toThrow(
      HopLimitError,
    );
    const metrics = outcomes.metrics.snapshot({ queueDepth: 0, deliveriesPending: 0, plugins: [] });
    expect(metrics).toMatchObject({ eventsRejected: 1, eventsLooped: 1 });
    expect(heard.events).toEqual([
      [
        'event.refused',
        expect.objectContaining({ space: 'tenant', eventId: 'e1', code: 'HOP_LIMIT' }),
      ],
    ]);
  });

  test('refuses the types only the gateway emits, and an invalid target', () => {
    const { accept, outcomes } = stage();
    expect(() =>
      accept.accept(rawEvent({ type: 'eventgateway.event.received' }), {}, 'emit'),
    ).toThrow(/reserved/);
    expect(() => accept.accept(rawEvent(), { space: 'no space' }, 'emit')).toThrow(/space/);
    expect(() => accept.accept(rawEvent(), { method: 'BREW' }, 'emit')).toThrow(/method/);
    const metrics = outcomes.metrics.snapshot({ queueDepth: 0, deliveriesPending: 0, plugins: [] });
    expect(metrics).toMatchObject({ eventsRejected: 3, eventsLooped: 0 });
  });

  test("removes the gateway's own extensions from an untrusted event only", () => {
    const { accept } = stage();
    const forged = rawEvent({ eventgatewayauthorization: '{"admin":true}', deliveryid: 'x' });
    expect(accept.accept(forged, {}, 'emit').event.eventgatewayauthorization).toBe(
      '{"admin":true}',
    );
    const untrusted = accept.accept(forged, {}, 'http', undefined, true).event;
    expect(untrusted.eventgatewayauthorization).toBeUndefined();
    expect(untrusted.deliveryid).toBeUndefined();
  });

  test('an accepted event knows where it goes, and takes the gateway marks as a new value', () => {
    const { accept } = stage();
    const accepted = accept.accept(rawEvent(), { path: '/orders', method: 'put' }, 'replay');
    expect(accepted).toMatchObject({
      space: 'default',
      method: 'PUT',
      path: '/orders',
      via: 'replay',
    });
    const marked = accepted.withExtension('eventgatewayreplay', 'r1');
    expect(marked).toBeInstanceOf(Accepted);
    expect(marked.event.eventgatewayreplay).toBe('r1');
    expect(accepted.event.eventgatewayreplay).toBeUndefined();
  });

  test('reads only own properties: inherited ones (a polluted prototype) are neither attributes nor data', () => {
    const { accept } = stage();
    const inherited = { subject: 'from-proto', evil: 'x', n: 2 };
    const data = Object.assign(Object.create(inherited) as object, { kept: 1 });
    class Payload {
      own = 'yes';
    }
    Object.assign(Payload.prototype, { leaked: 'no' });
    const input = Object.assign(Object.create(inherited) as object, rawEvent({ data }));
    const { event } = accept.accept(input, {}, 'emit');
    expect(event.subject).toBeUndefined();
    expect(Object.keys(event)).toEqual(['specversion', 'id', 'source', 'type', 'data', 'hopcount']);
    expect(event.data).toEqual({ kept: 1 });
    expect(Object.keys(event.data as object)).toEqual(['kept']);
    const polluted = Object.prototype as Record<string, unknown>;
    polluted.pollution = 'x';
    try {
      const plain = accept.accept(
        rawEvent({ data: { a: { b: 1 }, c: new Payload() } }),
        {},
        'emit',
      );
      expect(Object.keys(plain.event)).not.toContain('pollution');
      expect(JSON.parse(JSON.stringify(plain.event.data))).toEqual({
        a: { b: 1 },
        c: { own: 'yes' },
      });
      expect(Object.isFrozen(plain.event) && Object.isFrozen(plain.event.data)).toBe(true);
    } finally {
      delete polluted.pollution;
    }
  });

  test('nothing but the stage makes an accepted event', () => {
    const Forge = Accepted as unknown as new (...args: unknown[]) => Accepted;
    expect(() => new Forge(Symbol('accept'), rawEvent(), 'default', 'POST', '/', 'emit')).toThrow(
      TypeError,
    );
  });
});
