import { AlreadyExistsError, NotFoundError, ValidationError } from '../errors';
import { corsId, toCorsRecord, type CorsInput, type CorsRecord } from '../model/cors';
import type { RuleContext, WritePlan } from './write-plan';

/** The record, or NotFoundError. */
export function requireCors(ctx: RuleContext, space: string, id: string): CorsRecord {
  const record = ctx.catalog.get('cors', space, id);
  if (!record) {
    throw new NotFoundError(`CORS configuration "${id}" not found.`, {
      resource: 'cors',
      id,
      space,
    });
  }
  return record;
}

export function planCreateCors(
  ctx: RuleContext,
  input: CorsInput,
  space: string,
): WritePlan<CorsRecord> {
  const record = toCorsRecord(input, space);
  if (input.corsId !== undefined && input.corsId !== record.corsId) {
    throw new ValidationError(
      `CORS configuration doesn't validate. Validation error: "corsId" is derived from method and path (${record.corsId}).`,
      { resource: 'cors' },
    );
  }
  if (ctx.catalog.get('cors', record.space, record.corsId)) {
    throw new AlreadyExistsError(`CORS configuration "${record.corsId}" already exists.`, {
      resource: 'cors',
      id: record.corsId,
      space: record.space,
    });
  }
  const key = ctx.layout.key('cors', record.space, record.corsId);
  return {
    compares: [{ key, modRevision: 0 }],
    operations: [{ type: 'put', key, value: JSON.stringify(record) }],
    result: record,
  };
}

export function planUpdateCors(
  ctx: RuleContext,
  input: Partial<CorsInput>,
  space: string,
): WritePlan<CorsRecord> {
  if (typeof input !== 'object' || input === null) {
    throw new ValidationError(
      "CORS configuration doesn't validate. Validation error: the CORS configuration must be an object.",
      { resource: 'cors' },
    );
  }
  const text = (value: unknown) => (typeof value === 'string' ? value : '');
  if (input.corsId !== undefined && (typeof input.corsId !== 'string' || input.corsId === '')) {
    throw new ValidationError(
      'CORS configuration doesn\'t validate. Validation error: "corsId" must be a non-empty string.',
      { resource: 'cors' },
    );
  }
  const id = input.corsId ?? corsId(text(input.method).toUpperCase(), text(input.path));
  const existing = requireCors(ctx, space, id);
  const record = toCorsRecord(
    { ...input, method: input.method ?? existing.method, path: input.path ?? existing.path },
    space,
  );
  for (const field of ['method', 'path'] as const) {
    if (record[field] !== existing[field]) {
      throw new ValidationError(
        `Invalid update. '${field}' of existing CORS configuration cannot be updated.`,
        { resource: 'cors', id, space },
      );
    }
  }
  const key = ctx.layout.key('cors', space, id);
  return {
    compares: [{ key, exists: true }],
    operations: [{ type: 'put', key, value: JSON.stringify(record) }],
    result: record,
  };
}

export function planDeleteCors(ctx: RuleContext, space: string, id: string): WritePlan<void> {
  requireCors(ctx, space, id);
  const key = ctx.layout.key('cors', space, id);
  return {
    compares: [{ key, exists: true }],
    operations: [{ type: 'delete', key }],
    result: undefined,
  };
}
