import { randomUUID } from 'node:crypto';
import {
  ArchiveUnavailableError,
  BackpressureError,
  GatewayClosedError,
  GatewayError,
  ValidationError,
} from '../errors';
import type { AcceptedEvent } from '../plugins/accepted-event';
import { isValidSpace, MAX_NAME_LENGTH, optionsArgument } from '../model/checks';
import { showValue } from '../model/describe-error';
import { parseIsoTime } from '../model/iso-time';
import type { ArchivedEvent, ArchiveSource } from '../plugins/archive-source';
import { screenArchived, type ArchivedScreenHost } from './screen-archived';

/** Options of `gateway.replay`. */
export interface ReplayOptions {
  /** The archive to read: an {@link S3Archive} or a {@link KafkaArchive} (used or not). */
  source: ArchiveSource;
  /** Replay events accepted from this instant on (a Date, an ISO 8601 time with its offset, or ms since the epoch). */
  from: Date | string | number;
  /**
   * ...and before this one.
   * @default now
   */
  to?: Date | string | number;
  /** Only events of this space. @default every space */
  space?: string;
  /** Only events of this type. @default every type */
  type?: string;
  /**
   * Count what would be sent where (per function) and send nothing: plugins are not run, and
   * functions (authorizers included) are not called.
   * @default false
   */
  dryRun?: boolean;
  /**
   * Most events emitted per second.
   * @default unbounded (as fast as the gateway accepts them)
   */
  rate?: number;
  /** Called with the figures so far, every `progressInterval` ms and once at the end. */
  onProgress?: (progress: ReplayProgress) => void;
  /**
   * How often `onProgress` is called, in ms.
   * @default 1000
   */
  progressInterval?: number;
  /** Stops the replay early: it then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** A replay's figures: as it goes (`onProgress`), and what it resolves with. */
export interface ReplayProgress {
  /** The replay's ID, set on every event it emits as the `eventgatewayreplay` extension. */
  readonly replayId: string;
  /** Events read from the archive in the window (and space and type). */
  readonly read: number;
  /** Events emitted and accepted (with `dryRun`: that would be emitted). */
  readonly emitted: number;
  /**
   * Events the gateway refused: invalid, looping, refused by an intake plugin, or refused by
   * their type's authorizer (or its failure).
   */
  readonly refused: number;
  /** Deliveries accepted for the emitted events (with `dryRun`: that would be). */
  readonly deliveries: number;
  /** With `dryRun`: deliveries that would be made, per space and function. */
  readonly byFunction?: readonly { space: string; functionId: string; deliveries: number }[];
  /** The last refusal's reason, if any. */
  readonly lastRefusal?: string;
}

/** What a replay needs of the gateway: screening archived events, and emitting them. */
export interface ReplayTarget extends ArchivedScreenHost {
  /** Emits an accepted event through the intake plugins (as `replay`); resolves with its deliveries. */
  emit(accepted: AcceptedEvent): Promise<number>;
  /** The functions an accepted event would be delivered to (a dry run). */
  wouldDeliver(accepted: AcceptedEvent): readonly string[];
}

/** How long a replay waits for room when the delivery queue is full, at most (ms). */
const MAX_BACKPRESSURE_WAIT = 200;

/**
 * Reads an archive's window and emits its events again, in the order they were accepted, each
 * marked with the replay's ID. Archived records are untrusted (whoever can write to the bucket
 * or topic writes them): each is screened as the Events API screens a client's event (see
 * {@link screenArchived}). A full delivery queue slows the replay down (it waits and tries the same
 * event again); a refused event is counted and skipped.
 */
export async function replay(
  target: ReplayTarget,
  options: ReplayOptions,
): Promise<ReplayProgress> {
  const query = checkReplayOptions(options);
  options.signal?.throwIfAborted();
  const replayId = randomUUID();
  const controller = new AbortController();
  const stop = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', stop, { once: true });
  const figures = { read: 0, emitted: 0, refused: 0, deliveries: 0 };
  let lastRefusal: string | undefined;
  const byFunction = new Map<string, { space: string; functionId: string; deliveries: number }>();
  const progress = (): ReplayProgress => ({
    replayId,
    ...figures,
    ...(options.dryRun ? { byFunction: [...byFunction.values()] } : {}),
    ...(lastRefusal !== undefined ? { lastRefusal } : {}),
  });
  const refused = (archived: ArchivedEvent, reason: string) => {
    figures.refused++;
    lastRefusal = `${String(archived.event.id).slice(0, 256)}: ${reason.slice(0, 1000)}`;
  };
  const interval = options.progressInterval ?? 1000;
  let reportedAt = performance.now();
  const report = () => {
    reportedAt = performance.now();
    try {
      options.onProgress?.(progress());
    } catch {
      // a progress callback that throws must not stop the replay
    }
  };
  const started = performance.now();
  try {
    for await (const archived of options.source.read({ ...query, signal: controller.signal })) {
      if (controller.signal.aborted) break;
      if (typeof archived?.event !== 'object' || archived.event === null) {
        throw new ArchiveUnavailableError(
          `The archive "${String(options.source.name)}" yielded something that is not an archived event.`,
        );
      }
      if (query.space !== undefined && archived.space !== query.space) continue;
      if (query.type !== undefined && archived.event.type !== query.type) continue;
      figures.read++;
      if (options.rate !== undefined) {
        const due = started + (figures.emitted * 1000) / options.rate;
        const wait = due - performance.now();
        if (wait > 1) await sleep(wait, controller.signal);
        if (controller.signal.aborted) break;
      }
      try {
        const screened = await screenArchived(target, archived, replayId, !options.dryRun);
        if ('refused' in screened) {
          refused(archived, screened.refused);
        } else {
          const { accepted } = screened;
          figures.deliveries += options.dryRun
            ? tally(byFunction, archived.space, target.wouldDeliver(accepted))
            : await emitWhenRoom(target, accepted, controller.signal);
          figures.emitted++;
        }
      } catch (error) {
        if (!(error instanceof GatewayError) || error instanceof GatewayClosedError) throw error;
        refused(archived, error.message);
      }
      if (performance.now() - reportedAt >= interval) report();
    }
    if (controller.signal.aborted) throw controller.signal.reason;
  } finally {
    options.signal?.removeEventListener('abort', stop);
  }
  report();
  return progress();
}

/** Counts a dry run's deliveries per space and function; returns how many. */
function tally(
  byFunction: Map<string, { space: string; functionId: string; deliveries: number }>,
  space: string,
  functions: readonly string[],
): number {
  for (const functionId of functions) {
    const key = `${space}\0${functionId}`;
    const entry = byFunction.get(key) ?? { space, functionId, deliveries: 0 };
    entry.deliveries++;
    byFunction.set(key, entry);
  }
  return functions.length;
}

/** Emits, waiting for room while the delivery queue is full. */
async function emitWhenRoom(
  target: ReplayTarget,
  accepted: AcceptedEvent,
  signal: AbortSignal,
): Promise<number> {
  for (let wait = 5; ; wait = Math.min(wait * 2, MAX_BACKPRESSURE_WAIT)) {
    try {
      return await target.emit(accepted);
    } catch (error) {
      if (!(error instanceof BackpressureError)) throw error;
      await sleep(wait, signal);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Validates the options; returns the window in ms and the filters. */
function checkReplayOptions(options: ReplayOptions): {
  from: number;
  to: number;
  space?: string;
  type?: string;
} {
  optionsArgument(options, 'replay(options)');
  const source = options.source as Partial<ArchiveSource> | undefined;
  if (typeof source !== 'object' || source === null || typeof source.read !== 'function') {
    throw new ValidationError(
      'replay(options): "source" must be an archive (an S3Archive or a KafkaArchive).',
    );
  }
  const from = instant(options.from, 'from');
  const to = options.to === undefined ? Date.now() : instant(options.to, 'to');
  if (to < from) throw new ValidationError('replay(options): "to" is before "from".');
  if (options.space !== undefined && !isValidSpace(options.space)) {
    throw new ValidationError(`replay(options): invalid "space" ${showValue(options.space)}.`);
  }
  if (
    options.type !== undefined &&
    (typeof options.type !== 'string' ||
      options.type === '' ||
      options.type.length > MAX_NAME_LENGTH)
  ) {
    throw new ValidationError(`replay(options): invalid "type" ${showValue(options.type)}.`);
  }
  if (
    options.rate !== undefined &&
    !(typeof options.rate === 'number' && options.rate > 0 && Number.isFinite(options.rate))
  ) {
    throw new ValidationError(
      'replay(options): "rate" must be a positive number of events per second.',
    );
  }
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
    throw new ValidationError('replay(options): "onProgress" must be a function.');
  }
  const interval = options.progressInterval;
  if (interval !== undefined && !(Number.isInteger(interval) && interval > 0)) {
    throw new ValidationError(
      'replay(options): "progressInterval" must be a positive integer (ms).',
    );
  }
  return {
    from,
    to,
    ...(options.space !== undefined ? { space: options.space } : {}),
    ...(options.type !== undefined ? { type: options.type } : {}),
  };
}

function instant(value: unknown, name: string): number {
  const ms =
    value instanceof Date
      ? value.getTime()
      : typeof value === 'number'
        ? value
        : (parseIsoTime(value) ?? NaN);
  if (!Number.isFinite(ms)) {
    throw new ValidationError(
      `replay(options): "${name}" must be a Date, an ISO 8601 time with its offset (2026-12-05T10:00:00Z) or ms since the epoch, got ${showValue(value)}.`,
    );
  }
  return ms;
}
