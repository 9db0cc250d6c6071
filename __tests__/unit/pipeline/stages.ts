import { IntakeChain } from '../../../lib/intake/intake-chain';
import type { SystemEvents } from '../../../lib/model/system-events';
import { Outcomes } from '../../../lib/pipeline/outcomes';
import { SystemEventEmitter } from '../../../lib/pipeline/system-event-emitter';
import type { DeadLetter } from '../../../lib/plugins/dead-letter';
import type { IntakePlugin } from '../../../lib/plugins/intake-plugin';
import { Router } from '../../../lib/router/router';

/** What a stage test hears: system events raised locally, and failures reported. */
export interface Heard {
  readonly events: [keyof SystemEvents, unknown][];
  readonly errors: Error[];
}

/** The outcome stage over a real router and intake chain, hearing every local system event. */
export function outcomesFor(
  plugins: IntakePlugin[] = [],
  onDeadLetter?: (letter: DeadLetter) => unknown,
): { outcomes: Outcomes; intake: IntakeChain; router: Router; heard: Heard } {
  const heard: Heard = { events: [], errors: [] };
  const router = new Router();
  const reportError = (error: Error) => void heard.errors.push(error);
  // The chain's host raises archive reports through the outcome stage made just below.
  const late: { outcomes?: Outcomes } = {};
  const intake = new IntakeChain({
    reportError,
    archiveDropped: (space, report) => late.outcomes?.archiveDropped(space, report),
  });
  const outcomes = (late.outcomes = new Outcomes({
    systemEvents: new SystemEventEmitter({
      router,
      hasLocalListeners: () => true,
      hasSystemListeners: () => true,
      emitLocal: (name, payload) => void heard.events.push([name, payload]),
      route: () => undefined,
    }),
    intake,
    onDeadLetter,
    reportError,
  }));
  for (const plugin of plugins) intake.add(plugin);
  return { outcomes, intake, router, heard };
}

/** A valid event, with `extra` attributes. */
export function rawEvent(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { specversion: '1.0', id: 'e1', source: '/test', type: 'user.created', ...extra };
}
