import { EventRefusedError } from '../../../lib/errors';
import type { CloudEvent } from '../../../lib/model/cloud-event';
import { AcceptStage } from '../../../lib/pipeline/accept';
import { Admitted, ScreenStage } from '../../../lib/pipeline/screen';
import type { AcceptedEvent } from '../../../lib/plugins/accepted-event';
import type { IntakeContext, IntakePlugin } from '../../../lib/plugins/intake-plugin';
import { outcomesFor, rawEvent } from './stages';

function stages(plugins: IntakePlugin[] = []) {
  const { outcomes, heard, intake } = outcomesFor(plugins);
  const accept = new AcceptStage({
    defaultSpace: 'default',
    maxDataDepth: 64,
    maxHops: 5,
    outcomes,
  });
  return { accept, screen: new ScreenStage({ intake, outcomes }), outcomes, heard };
}

describe('the screen stage', () => {
  test('without plugins, admits synchronously (no promise on the common path)', () => {
    const { accept, screen } = stages();
    const admitted = screen.screen(accept.accept(rawEvent(), {}, 'emit'));
    expect(admitted).toBeInstanceOf(Admitted);
  });

  test('plugins see the event after the hop check, whatever its way in', async () => {
    const seen: [number, IntakeContext['via']][] = [];
    const { accept, screen } = stages([
      {
        name: 'watch',
        onEvent: (event, context) => void seen.push([event.hopcount as number, context.via]),
      },
    ]);
    await screen.screen(accept.accept(rawEvent(), {}, 'emit'));
    await screen.screen(accept.accept(rawEvent({ hopcount: 2 }), {}, 'http', undefined, true));
    expect(() => accept.accept(rawEvent({ hopcount: 5 }), {}, 'http')).toThrow(/more than 5 times/);
    expect(seen).toEqual([
      [0, 'emit'],
      [3, 'http'],
    ]);
  });

  test('admits the event as the plugins let it through', async () => {
    const { accept, screen } = stages([
      { name: 'enrich', onEvent: () => ({ extensions: { region: 'eu' } }) },
    ]);
    const admitted = await screen.screen(accept.accept(rawEvent(), { path: '/x' }, 'emit'));
    expect(admitted.event.region).toBe('eu');
    expect(admitted).toMatchObject({ space: 'default', method: 'POST', path: '/x', via: 'emit' });
  });

  test('a batch is screened whole: one refusal refuses all, counted and reported once', async () => {
    const seen: string[] = [];
    const { accept, screen, outcomes, heard } = stages([
      {
        name: 'no-b',
        onEvent: (event: CloudEvent) => {
          seen.push(event.id);
          return event.id === 'b' ? { refuse: 'not b', status: 400 } : undefined;
        },
      },
    ]);
    const batch = ['a', 'b', 'c'].map((id) => accept.accept(rawEvent({ id }), {}, 'batch'));
    await expect(screen.screenAll(batch)).rejects.toThrow(EventRefusedError);
    expect(seen).toEqual(['a', 'b']);
    const metrics = outcomes.metrics.snapshot({ queueDepth: 0, deliveriesPending: 0, plugins: [] });
    expect(metrics).toMatchObject({ eventsRejected: 1, eventsRefused: 1, eventsReceived: 0 });
    expect(heard.events).toEqual([
      ['event.refused', expect.objectContaining({ eventId: 'b', plugin: 'no-b' })],
    ]);
  });

  test('an accepted look-alike is not screened, and nothing but the stage admits', () => {
    const { accept, screen } = stages();
    const real = accept.accept(rawEvent(), {}, 'emit');
    const lookAlike: AcceptedEvent = { ...real, withExtension: () => lookAlike };
    expect(() => screen.screen(lookAlike)).toThrow(TypeError);
    const Forge = Admitted as unknown as new (...args: unknown[]) => Admitted;
    expect(() => new Forge(Symbol('admit'), real.event, 'default', 'POST', '/', 'emit')).toThrow(
      TypeError,
    );
  });
});
