import type { IntakeChain } from '../intake/intake-chain';
import type { CloudEvent } from '../model/cloud-event';
import type { IntakeVia } from '../plugins/intake-plugin';
import type { AcceptedEvent } from '../plugins/accepted-event';
import { Accepted } from './accept';
import type { Outcomes } from './outcomes';

/** Only this module makes an {@link Admitted}: nothing is dispatched unscreened. */
const ADMIT = Symbol('admit');

/**
 * An event the intake plugins let through (as they let it through: maybe enriched), ready to be
 * dispatched. Only {@link ScreenStage} makes one, so "screened already" is a value a caller holds,
 * not a flag it passes: `dispatch` takes nothing else.
 */
export class Admitted {
  /** @internal */
  constructor(
    token: typeof ADMIT,
    readonly event: CloudEvent,
    readonly space: string,
    readonly method: string,
    readonly path: string,
    readonly via: IntakeVia,
  ) {
    if (token !== ADMIT) throw new TypeError('Admitted events are made by the screen stage.');
  }
}

/** What the screen stage needs. */
export interface ScreenDeps {
  readonly intake: IntakeChain;
  readonly outcomes: Outcomes;
}

/**
 * The pipeline's second stage: every accepted event passes the intake plugins (each may refuse it
 * or add extensions) at the same point, after the accept stage's hop check, whatever its way in.
 */
export class ScreenStage {
  constructor(private readonly deps: ScreenDeps) {}

  /** False when no plugin screens events: every accepted event is admitted as it is. */
  get screens(): boolean {
    return this.deps.intake.screens;
  }

  /**
   * Screens one accepted event: synchronously when no plugin screens events (the common case
   * costs no promise). Rejects (or throws) with EventRefusedError or IntakeFailedError, counted
   * and reported.
   */
  screen(accepted: AcceptedEvent): Admitted | Promise<Admitted> {
    const { event, space, method, path, via } = checked(accepted);
    if (!this.deps.intake.screens) return new Admitted(ADMIT, event, space, method, path, via);
    const admitted = (screened: CloudEvent) =>
      new Admitted(ADMIT, screened, space, method, path, via);
    let screened: CloudEvent | Promise<CloudEvent>;
    try {
      screened = this.deps.intake.admit(event, { space, method, path }, via);
    } catch (error) {
      throw this.deps.outcomes.refused(error, event, space);
    }
    if (!(screened instanceof Promise)) return admitted(screened);
    return screened.then(admitted, (error: unknown) =>
      Promise.reject(this.deps.outcomes.refused(error, event, space)),
    );
  }

  /**
   * Screens a batch whole, in order, before any of it is dispatched: one refusal refuses all
   * (the plugins heard of the ones before it; none of them is dispatched).
   */
  async screenAll(accepted: readonly AcceptedEvent[]): Promise<Admitted[]> {
    const out: Admitted[] = [];
    for (const one of accepted) out.push(await this.screen(one));
    return out;
  }
}

/** The accepted event, if the accept stage made it: a look-alike never reaches the plugins. */
function checked(accepted: AcceptedEvent): Accepted {
  if (!(accepted instanceof Accepted)) {
    throw new TypeError('Only events from the accept stage can be screened.');
  }
  return accepted;
}
