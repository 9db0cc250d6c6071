import { LimitExceededError, type LimitName, type ResourceKind } from '../errors';
import type { RecordKind } from '../model/key-layout';
import type { Compare } from '../store/store';
import type { RuleContext } from './write-plan';

/** What a count limit says of its records, in its refusal. */
const NOUNS: Readonly<Record<RecordKind, [ResourceKind, string, string]>> = {
  eventtypes: ['eventType', 'Event type', 'event types'],
  functions: ['function', 'Function', 'functions'],
  subscriptions: ['subscription', 'Subscription', 'subscriptions'],
  cors: ['cors', 'CORS configuration', 'CORS configurations'],
  connections: ['connection', 'Connection', 'connections'],
};

/**
 * Checks a record about to be created against a count limit of its kind in its space. Returns
 * the compare that keeps the decision true when the write commits: no record of the kind in the
 * space was written since the catalog's revision (concurrent creates on other instances plan
 * again, and see each other). Throws LimitExceededError when the space holds `max` already.
 * @example
 * ```ts
 * compares.push(...checkSpaceCount(ctx, 'functions', 'acme', 'mailer', 'recordsPerSpace', 1000));
 * ```
 */
export function checkSpaceCount(
  ctx: RuleContext,
  kind: RecordKind,
  space: string,
  id: string,
  limit: LimitName,
  max: number,
): Compare[] {
  const count = ctx.catalog.list(kind, space).length;
  if (count >= max) {
    const [resource, noun, plural] = NOUNS[kind];
    throw new LimitExceededError(
      `${noun} "${id}" cannot be created: space "${space}" has ${count} ${plural}, the most it may hold (the gateway's "limits.${limit}" is ${max}).`,
      limit,
      max,
      { resource, id, space },
    );
  }
  return [{ prefix: ctx.layout.spacePrefix(kind, space), maxModRevision: ctx.revision }];
}
