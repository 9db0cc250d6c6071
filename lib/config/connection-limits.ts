import { LimitExceededError, ValidationError } from '../errors';
import { checkSpaceCount } from './space-count';
import type { ConnectionRecord } from '../model/connection';
import { describeError } from '../model/describe-error';
import type { Compare } from '../store/store';
import type { RuleContext } from './write-plan';

/**
 * The default of `limits.connectionsPerSpace`: without it, a tenant with write scope could
 * create connections without end, each one a source the whole fleet runs.
 */
export const DEFAULT_CONNECTIONS_PER_SPACE = 100;

/**
 * The default of `limits.recordsPerSpace`: without it, a tenant with write scope could create
 * event types, functions, subscriptions and CORS configurations without end, each one kept in
 * the memory of every instance.
 */
export const DEFAULT_RECORDS_PER_SPACE = 1000;

/**
 * The default of `limits.minScheduleInterval`, in ms: the finest a cron expression can tick (with
 * seconds), so that a schedule's expression is parsed, and a bad one refused, when it is written.
 * With {@link DEFAULT_CONNECTIONS_PER_SPACE}, a space's schedules fire at most 100 events a second.
 */
export const DEFAULT_MIN_SCHEDULE_INTERVAL = 1000;

/**
 * Checks a connection about to be created against the space's count limit. Returns the compare
 * that keeps the decision true when the write commits: no connection of the space was written
 * since the catalog's revision (concurrent creates on other instances plan again, and see each
 * other), none without a limit.
 * @example
 * ```ts
 * compares.push(...checkConnectionCount(ctx, record));
 * ```
 */
export function checkConnectionCount(ctx: RuleContext, record: ConnectionRecord): Compare[] {
  const max = ctx.limits?.connectionsPerSpace;
  if (max === undefined) return [];
  const { space, connectionId } = record;
  return checkSpaceCount(ctx, 'connections', space, connectionId, 'connectionsPerSpace', max);
}

/**
 * Refuses a schedule that would tick more often than the `minScheduleInterval` limit allows (on
 * create and on update), and a cron expression the schedule parser refuses, when that limit is
 * set (without it, such an expression fails when the schedule starts, and is reported).
 * @example
 * ```ts
 * checkScheduleInterval(ctx, record); // throws LimitExceededError for '* * * * * *' under 60000
 * ```
 */
export function checkScheduleInterval(ctx: RuleContext, record: ConnectionRecord): void {
  const min = ctx.limits?.minScheduleInterval;
  const gapOf = ctx.limits?.scheduleGap;
  if (record.type !== 'schedule' || min === undefined || gapOf === undefined) return;
  const details = { resource: 'connection', id: record.connectionId, space: record.space } as const;
  const { cron, timezone } = record.source;
  let gap: number;
  try {
    gap = gapOf(String(cron), timezone === undefined ? undefined : String(timezone));
  } catch (error) {
    throw new ValidationError(
      `Connection doesn't validate. Validation error: "source.cron" is not a valid schedule: ${describeError(error).slice(0, 200)}`,
      details,
    );
  }
  if (gap < min) {
    throw new LimitExceededError(
      `Connection "${record.connectionId}" cannot be written: its schedule ticks ${gap / 1000} s apart, and the gateway's "limits.minScheduleInterval" is ${min / 1000} s.`,
      'minScheduleInterval',
      min,
      details,
    );
  }
}
