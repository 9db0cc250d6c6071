import { AlreadyExistsError, ConflictError, NotFoundError, ValidationError } from '../errors';
import { isImplicitEventType, isWildcardType } from '../model/event-type';
import {
  toSubscriptionRecord,
  type SubscriptionInput,
  type SubscriptionRecord,
} from '../model/subscription';
import type { Compare } from '../store/store';
import { eventTypeNotFound } from './event-type-rules';
import { functionNotFound } from './function-rules';
import type { RuleContext, WritePlan } from './write-plan';

/** Arguments of `updateSubscription`: only `metadata` may change; other fields, if given, must match. */
export interface SubscriptionUpdateInput extends Partial<SubscriptionInput> {
  subscriptionId: string;
}

/** The record, or NotFoundError. */
export function requireSubscription(
  ctx: RuleContext,
  space: string,
  subscriptionId: string,
): SubscriptionRecord {
  const record = ctx.catalog.get('subscriptions', space, subscriptionId);
  if (!record) {
    throw new NotFoundError(`Subscription "${subscriptionId}" not found.`, {
      resource: 'subscription',
      id: subscriptionId,
      space,
    });
  }
  return record;
}

export function planSubscribe(
  ctx: RuleContext,
  input: SubscriptionInput,
  space: string,
): WritePlan<SubscriptionRecord> {
  const record = toSubscriptionRecord(input, space);
  const { catalog, layout } = ctx;
  const key = layout.key('subscriptions', record.space, record.subscriptionId);
  if (catalog.get('subscriptions', record.space, record.subscriptionId)) {
    throw new AlreadyExistsError(`Subscription "${record.subscriptionId}" already exists.`, {
      resource: 'subscription',
      id: record.subscriptionId,
      space: record.space,
    });
  }
  const compares: Compare[] = [{ key, modRevision: 0 }];
  // http.request and the system event types exist implicitly in every space; created
  // explicitly (to attach an authorizer), they are checked like any other.
  const eventType = catalog.get('eventtypes', record.space, record.eventType);
  if (eventType) {
    compares.push({ key: layout.key('eventtypes', record.space, record.eventType), exists: true });
  } else if (!isImplicitEventType(record.eventType) && !isWildcardType(record.eventType)) {
    throw missingReference(eventTypeNotFound(record.space, record.eventType));
  }
  if (!catalog.get('functions', record.space, record.functionId)) {
    throw missingReference(functionNotFound(record.space, record.functionId));
  }
  compares.push({ key: layout.key('functions', record.space, record.functionId), exists: true });
  if (record.type === 'sync') {
    checkPathConflict(ctx, record);
    // No other sync route appeared since the catalog's revision.
    compares.push({
      prefix: layout.spacePrefix('subscriptions', record.space),
      maxModRevision: ctx.revision,
    });
  }
  return {
    compares,
    operations: [{ type: 'put', key, value: JSON.stringify(record) }],
    result: record,
  };
}

export function planUpdateSubscription(
  ctx: RuleContext,
  input: SubscriptionUpdateInput,
  space: string,
): WritePlan<SubscriptionRecord> {
  if (typeof input?.subscriptionId !== 'string') {
    throw new ValidationError(
      `Subscription doesn't validate. Validation error: "subscriptionId" is required.`,
      { resource: 'subscription' },
    );
  }
  const existing = requireSubscription(ctx, space, input.subscriptionId);
  const proposed = toSubscriptionRecord(
    {
      type: input.type ?? existing.type,
      eventType: input.eventType ?? existing.eventType,
      functionId: input.functionId ?? existing.functionId,
      path: input.path ?? existing.path,
      method: input.method ?? existing.method,
      metadata: input.metadata,
    },
    space,
  );
  for (const field of ['type', 'eventType', 'functionId', 'path', 'method'] as const) {
    if (proposed[field] !== existing[field]) {
      throw new ValidationError(
        `Invalid update. '${field}' of existing subscription cannot be updated.`,
        { resource: 'subscription', id: existing.subscriptionId, space },
      );
    }
  }
  const key = ctx.layout.key('subscriptions', space, existing.subscriptionId);
  return {
    compares: [{ key, exists: true }],
    operations: [{ type: 'put', key, value: JSON.stringify(proposed) }],
    result: proposed,
  };
}

export function planUnsubscribe(
  ctx: RuleContext,
  space: string,
  subscriptionId: string,
): WritePlan<void> {
  requireSubscription(ctx, space, subscriptionId);
  const key = ctx.layout.key('subscriptions', space, subscriptionId);
  return {
    compares: [{ key, exists: true }],
    operations: [{ type: 'delete', key }],
    result: undefined,
  };
}

/** A referenced resource is missing: a 400 for the write, with Event Gateway 0.9's message. */
function missingReference(notFound: NotFoundError): ConflictError {
  return new ConflictError(notFound.message, 'missing-reference', {
    resource: notFound.resource,
    id: notFound.id,
    space: notFound.space,
  });
}

/**
 * Two sync routes of one space, method and event type conflict when they match the same
 * requests (same shape): the router could not choose between them.
 */
function checkPathConflict(ctx: RuleContext, record: SubscriptionRecord): void {
  const { space, method, eventType, path } = record;
  const [other] = ctx.catalog.syncRoutesLike(space, method, eventType, path);
  if (other) {
    throw new ConflictError(
      `Subscription path conflict: ${record.method} ${record.path} overlaps ${other.path} of subscription "${other.subscriptionId}" for event type "${record.eventType}".`,
      'path-conflict',
      { resource: 'subscription', id: record.subscriptionId, space: record.space },
    );
  }
}
