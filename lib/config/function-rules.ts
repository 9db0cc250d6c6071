import { AlreadyExistsError, ConflictError, NotFoundError, ValidationError } from '../errors';
import { toFunctionRecord, type FunctionInput, type FunctionRecord } from '../model/function';
import { keepStoredSecrets } from '../model/function-secrets';
import { Checks } from '../model/checks';
import type { RuleContext, WritePlan } from './write-plan';

/** `Function "X" not found.` */
export function functionNotFound(space: string, functionId: string): NotFoundError {
  return new NotFoundError(`Function "${functionId}" not found.`, {
    resource: 'function',
    id: functionId,
    space,
  });
}

/** The record, or NotFoundError. */
export function requireFunction(
  ctx: RuleContext,
  space: string,
  functionId: string,
): FunctionRecord {
  const record = ctx.catalog.get('functions', space, functionId);
  if (!record) throw functionNotFound(space, functionId);
  return record;
}

/** Options of `registerFunction` and `updateFunction`. */
export interface WriteOptions {
  /**
   * Who writes: `'tenant'` for a write made for an API client (the Configuration API served with
   * API keys), checked against the tenants' outbound policy and stored in the record's `writer`.
   * @default the host's own code: the record has no `writer`
   */
  writer?: 'tenant';
}

const functionChecks = new Checks('function');

/** The write's `writer`, checked (host code passing anything else gets a ValidationError). */
export function writerOf(
  options: WriteOptions | undefined,
  checks: Checks = functionChecks,
): 'tenant' | undefined {
  if (options === undefined) return undefined;
  checks.object(options, 'the write options');
  checks.onlyFields(options as Record<string, unknown>, ['writer'], 'the write options');
  if (options.writer !== undefined && options.writer !== 'tenant') {
    checks.fail(`option "writer" must be 'tenant' or absent.`);
  }
  return options.writer;
}

/** The input validated into a record written by `writer` (stored only for a tenant). */
function recordOf(
  ctx: RuleContext,
  input: FunctionInput,
  space: string,
  options: WriteOptions | undefined,
): FunctionRecord {
  const writer = writerOf(options);
  const outbound = ctx.outboundFor(space, writer);
  const record = toFunctionRecord(input, space, ctx.providerValidators, outbound);
  return writer === undefined ? record : { ...record, writer };
}

export function planRegisterFunction(
  ctx: RuleContext,
  input: FunctionInput,
  space: string,
  options?: WriteOptions,
): WritePlan<FunctionRecord> {
  // A new function has no stored secret to keep: the mask is refused.
  const record = keepMaskedSecrets(recordOf(ctx, input, space, options), undefined);
  if (ctx.catalog.get('functions', record.space, record.functionId)) {
    throw new AlreadyExistsError(`Function "${record.functionId}" already registered.`, {
      resource: 'function',
      id: record.functionId,
      space: record.space,
    });
  }
  const key = ctx.layout.key('functions', record.space, record.functionId);
  return {
    compares: [{ key, modRevision: 0 }],
    operations: [{ type: 'put', key, value: JSON.stringify(record) }],
    result: record,
  };
}

export function planUpdateFunction(
  ctx: RuleContext,
  input: FunctionInput,
  space: string,
  options?: WriteOptions,
): WritePlan<FunctionRecord> {
  const given = recordOf(ctx, input, space, options);
  const stored = requireFunction(ctx, given.space, given.functionId);
  const record = keepMaskedSecrets(given, stored);
  const key = ctx.layout.key('functions', record.space, record.functionId);
  return {
    compares: [{ key, exists: true }],
    operations: [{ type: 'put', key, value: JSON.stringify(record) }],
    result: record,
  };
}

export function planDeleteFunction(
  ctx: RuleContext,
  space: string,
  functionId: string,
): WritePlan<void> {
  requireFunction(ctx, space, functionId);
  for (const eventType of ctx.catalog.values('eventtypes', space)) {
    if (eventType.authorizerId === functionId) {
      throw new ConflictError(
        `Function ${functionId} cannot be deleted because is used as an authorizer for ${eventType.name} event type.`,
        'in-use',
        { resource: 'function', id: functionId, space },
      );
    }
  }
  for (const sub of ctx.catalog.values('subscriptions', space)) {
    if (sub.functionId === functionId) {
      throw new ConflictError(
        "Function cannot be deleted because it's subscribed to a least one event.",
        'in-use',
        { resource: 'function', id: functionId, space },
      );
    }
  }
  for (const connection of ctx.catalog.values('connections', space)) {
    if (connection.deadLetter?.functionId === functionId) {
      throw new ConflictError(
        `Function ${functionId} cannot be deleted because connection ${connection.connectionId} sends its refused messages to it.`,
        'in-use',
        { resource: 'function', id: functionId, space },
      );
    }
  }
  const key = ctx.layout.key('functions', space, functionId);
  return {
    compares: [
      { key, exists: true },
      // Nothing that could refer to the function appeared since the catalog's revision.
      { prefix: ctx.layout.spacePrefix('subscriptions', space), maxModRevision: ctx.revision },
      { prefix: ctx.layout.spacePrefix('eventtypes', space), maxModRevision: ctx.revision },
      { prefix: ctx.layout.spacePrefix('connections', space), maxModRevision: ctx.revision },
    ],
    operations: [{ type: 'delete', key }],
    result: undefined,
  };
}

/** Masked secrets keep the stored ones only where the function still points where it did. */
function keepMaskedSecrets(
  given: FunctionRecord,
  stored: FunctionRecord | undefined,
): FunctionRecord {
  return keepStoredSecrets(given, stored, 'the function', (detail) => {
    throw new ValidationError(`Function doesn't validate. Validation error: ${detail}`, {
      resource: 'function',
      id: given.functionId,
      space: given.space,
    });
  });
}
