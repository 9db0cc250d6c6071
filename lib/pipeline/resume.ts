import type { Catalog } from '../cache/catalog';
import type { Delivery } from '../delivery/delivery';
import type { Dispatcher } from '../delivery/dispatcher';
import { GatewayClosedError, InvocationError } from '../errors';
import type { Journal, JournalEntry } from '../journal/journal';
import { journalFailure } from '../journal/journal-failure';
import { WaitingDeliveries, type WaitingReport } from '../journal/waiting-deliveries';
import type { LocalHandler } from '../model/function';
import type { DeadLetter } from '../plugins/dead-letter';
import type { GatewayTracing } from '../tracing/gateway-tracing';

/** What resuming a journal needs. */
export interface ResumeDeps {
  readonly catalog: Pick<Catalog, 'get'>;
  readonly dispatcher: Dispatcher;
  /** A delivery from the journal, with its attempts and age (see `RouteStage.fromJournal`). */
  fromJournal(entry: JournalEntry): Delivery;
  /** Dead-letters a delivery whose function this instance lacks. */
  deadLetterNow(task: Delivery): void;
  localHandler(space: string, functionId: string): LocalHandler | undefined;
  reportError(error: Error): void;
  /** The gateway's tracing, when it traces: resumed deliveries stay in their trace. */
  readonly tracing?: GatewayTracing;
}

/**
 * The journal's way back into the pipeline: opens it, takes the deliveries it hands this
 * instance (what a previous run left unfinished and, from a shared journal, what this instance
 * is assigned), holds those whose function is not configured or bound yet (see
 * {@link WaitingDeliveries}), and hands the rest to the dispatcher.
 */
export class JournalResume {
  /** Settles once the journal is open: records wait for it. */
  opened: Promise<unknown> = Promise.resolve();
  private waiting: WaitingDeliveries | undefined;
  private journal: Journal | undefined;
  /** Deliveries whose attempt counts are being written before they are made. */
  private readonly noting = new Set<Delivery>();

  constructor(private readonly deps: ResumeDeps) {}

  /**
   * Opens the journal. Called once, when the configuration is loaded. Rejects with
   * JournalUnavailableError (whatever the journal threw) when it cannot open.
   */
  resume(journal: Journal): Promise<void> {
    const { catalog, dispatcher } = this.deps;
    this.journal = journal;
    this.waiting = new WaitingDeliveries({
      wait: journal.waitForFunctions ?? Infinity,
      missing: (entry) => {
        const fn = catalog.get('functions', entry.space, entry.functionId);
        if (!fn) return 'function';
        const bound = fn.type !== 'local' || this.deps.localHandler(fn.space, fn.functionId);
        return bound ? undefined : 'handler';
      },
      release: (entries) => void this.restore(entries),
      expire: (entry, reason) => dispatcher.refuse(this.deps.fromJournal(entry), reason),
    });
    const opened = (async () =>
      journal.open({
        take: (entries) => this.take(entries),
        report: (error) => this.deps.reportError(error),
      }))().catch((error: unknown) => {
      throw journalFailure(error, 'could not open');
    });
    this.opened = opened;
    return opened;
  }

  /**
   * Makes the deliveries waiting for a function, if it can be called now: called when the
   * function is configured or changed, and when a local handler is bound here.
   */
  functionAvailable(space: string, functionId: string): void {
    this.waiting?.retry(space, functionId);
  }

  /** How many deliveries from the journal wait for their function. */
  get waitingCount(): number {
    return this.waiting?.size ?? 0;
  }

  /** The deliveries from the journal waiting for their function, and which functions. */
  waitingReport(): WaitingReport {
    return this.waiting?.report() ?? { deliveries: 0, functions: [] };
  }

  /** Stops waiting: what still waited is reported undelivered (it stays in the journal). */
  close(): DeadLetter[] {
    const waited = (this.waiting?.close() ?? []).map((entry) =>
      undelivered(
        entry,
        `the gateway closed while the delivery waited for function "${entry.functionId}" to be configured or bound here (it stays in the journal)`,
      ),
    );
    const noted = [...this.noting].map((task) =>
      undelivered(
        {
          ...task,
          functionId: task.fn.functionId,
          subscriptionId: task.subscription.subscriptionId,
        },
        'the gateway closed while the journal wrote the attempt count of the resumed delivery (it stays in the journal)',
      ),
    );
    this.noting.clear();
    return [...waited, ...noted];
  }

  /**
   * Takes deliveries from the journal, with their attempts and age, whatever the room: they were
   * accepted already (a shared journal bounds what it hands over). Those whose function cannot be
   * called yet wait for it (the journal's `waitForFunctions`).
   */
  private take(entries: readonly JournalEntry[]): Promise<void> {
    if (this.deps.dispatcher.closing) {
      return Promise.reject(
        new GatewayClosedError('The gateway is closing; it takes no deliveries.'),
      );
    }
    return this.restore(entries.filter((entry) => !this.waiting?.hold(entry)));
  }

  /**
   * Hands deliveries from the journal to the dispatcher; those whose function is gone, or that
   * made all their attempts before the restart, are dead-lettered.
   */
  private restore(entries: readonly JournalEntry[]): Promise<void> {
    const deliveries: Delivery[] = [];
    for (const entry of entries) {
      const task = this.deps.fromJournal(entry);
      task.trace = this.deps.tracing?.resumed(entry.traceparent, entry.tracestate);
      const spent = spentPolicy(task);
      if (!this.deps.catalog.get('functions', entry.space, entry.functionId)) {
        this.deps.deadLetterNow(task);
      } else if (spent !== undefined) this.deps.dispatcher.refuse(task, spent);
      else deliveries.push(task);
    }
    const note = this.journal?.attemptsBeforeResuming;
    if (deliveries.length === 0 || !note) {
      this.deps.dispatcher.restore(deliveries);
      return Promise.resolve();
    }
    // Each attempt's count is written before it is made: a delivery whose attempt brings the
    // process down counts it, and ends (spentPolicy) instead of being resumed for ever.
    for (const task of deliveries) this.noting.add(task);
    const counts = deliveries.map((task) => ({
      deliveryId: task.deliveryId as string,
      attempts: task.attempts + 1,
    }));
    return note.call(this.journal, counts).then(
      () => this.restoreNoted(deliveries),
      (error: unknown) => {
        // Made all the same (the count may stay behind): a journal failing never holds them up.
        this.deps.reportError(journalFailure(error, 'could not write resumed attempt counts'));
        this.restoreNoted(deliveries);
      },
    );
  }

  /** Hands resumed deliveries whose counts were written to the dispatcher, unless it closed. */
  private restoreNoted(deliveries: readonly Delivery[]): void {
    const open = deliveries.filter((task) => this.noting.delete(task));
    if (open.length > 0 && !this.deps.dispatcher.closing) this.deps.dispatcher.restore(open);
  }
}

/** What close() reports of a delivery from the journal it did not hand to the dispatcher. */
function undelivered(
  entry: Pick<JournalEntry, 'space' | 'event' | 'subscriptionId' | 'functionId' | 'attempts'>,
  reason: string,
): DeadLetter {
  return {
    space: entry.space,
    event: entry.event,
    subscriptionId: entry.subscriptionId,
    functionId: entry.functionId,
    reason,
    attempts: entry.attempts,
    error: new InvocationError(`Not delivered: ${reason}.`, { retryable: false }),
  };
}

/**
 * Why a resumed delivery may not be attempted again, if its retry policy says so. The attempt in
 * flight when the process ended (or close() cut short) lost its outcome, so a delivery that had
 * made its last one is made once more; one whose extra attempt was lost too ends here. Without
 * this, a delivery whose attempt brings the process down would be attempted on every start, for
 * ever. One past `maxAge` gets its attempt, as any retry after a close() does: a failure ends it.
 */
function spentPolicy(task: Delivery): string | undefined {
  const { attempts, retry } = task;
  if (attempts <= retry.maxAttempts) return undefined;
  return `${attempts} attempts were made before the gateway restarted, past maxAttempts (${retry.maxAttempts}); the outcome of the last ones was lost`;
}
