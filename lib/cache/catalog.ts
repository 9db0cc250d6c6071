import type { ResourceKind } from '../errors';
import { deepFreeze } from '../model/checks';
import { connectionWithoutSecrets, type ConnectionRecord } from '../model/connection';
import type { CorsRecord } from '../model/cors';
import type { EventTypeRecord } from '../model/event-type';
import type { FunctionRecord } from '../model/function';
import { withoutSecrets } from '../model/function-secrets';
import { JsonInterner } from '../model/json-interner';
import type { KeyLayout, RecordKind } from '../model/key-layout';
import { routeShape } from '../model/paths';
import type { SubscriptionRecord } from '../model/subscription';
import type { KeyValue } from '../store/store';
import type { CacheChange } from './config-cache';

/** The record type of each kind. */
export interface RecordsByKind {
  eventtypes: EventTypeRecord;
  functions: FunctionRecord;
  subscriptions: SubscriptionRecord;
  cors: CorsRecord;
  connections: ConnectionRecord;
}

/** Any configuration record. */
export type ConfigRecord = RecordsByKind[RecordKind];

/** A configuration change as the routing layer sees it: typed, after JSON decoding. */
export interface ConfigChange {
  readonly resource: ResourceKind;
  readonly space: string;
  readonly id: string;
  /** The record after the change; absent when it was deleted. */
  readonly record?: ConfigRecord;
  /** The record before the change; absent when it was created. */
  readonly prev?: ConfigRecord;
}

/** A stored value the catalog could not use; it is left out of routing and reported. */
export interface InvalidRecord {
  readonly key: string;
  readonly reason: string;
}

const RESOURCE: Record<RecordKind, ResourceKind> = {
  eventtypes: 'eventType',
  functions: 'function',
  subscriptions: 'subscription',
  cors: 'cors',
  connections: 'connection',
};

const ID_FIELD: Record<RecordKind, string> = {
  eventtypes: 'name',
  functions: 'functionId',
  subscriptions: 'subscriptionId',
  cors: 'corsId',
  connections: 'connectionId',
};

type Table<T> = Map<string, Map<string, T>>;

/**
 * The typed view of the cache: records by kind, space and ID, decoded once when they change and
 * frozen, so that reads cost a map lookup and nobody can alter the cache through a returned
 * record.
 */
export class Catalog {
  private readonly tables: { [K in RecordKind]: Table<RecordsByKind[K]> } = {
    eventtypes: new Map(),
    functions: new Map(),
    subscriptions: new Map(),
    cors: new Map(),
    connections: new Map(),
  };

  /**
   * Sync subscriptions by space, then by method, event type and route shape (the path-conflict
   * rule's key), then ID: a sync write checks the routes it could clash with, not the whole space.
   */
  private readonly syncRoutes = new Map<string, Map<string, Map<string, SubscriptionRecord>>>();

  /** Values decoded ahead of their change (as a listing arrives), by the pair they came in. */
  private readonly prepared = new Map<KeyValue, ConfigRecord | string>();

  /**
   * Counts the batches of changes applied: what a reader caches from the catalog (a
   * subscription's function record) is still current while this has not moved.
   */
  private changed = 0;

  /** Subscriptions' filters share their equal parts: thousands repeat the same lists. */
  private readonly filters = new JsonInterner();

  constructor(private readonly layout: KeyLayout) {}

  /** Moves whenever a batch of changes is applied; equal readings mean nothing changed between. */
  get version(): number {
    return this.changed;
  }

  /**
   * Decodes pairs ahead of `apply` (while the rest of a listing is still being fetched); `apply`
   * then uses the result for the same pair object instead of decoding it again.
   */
  prepare(items: readonly KeyValue[]): void {
    for (const kv of items) {
      const address = this.layout.parse(kv.key);
      if (!address) continue;
      const { kind, space, id } = address;
      this.prepared.set(kv, decode(kv.value, ID_FIELD[kind], id, space, this.filters));
    }
  }

  get<K extends RecordKind>(kind: K, space: string, id: string): RecordsByKind[K] | undefined {
    return this.tables[kind].get(space)?.get(id);
  }

  /** Every record of one kind in one space, in ID order. */
  list<K extends RecordKind>(kind: K, space: string): RecordsByKind[K][] {
    const bySpace = this.tables[kind].get(space);
    if (!bySpace) return [];
    return [...bySpace.keys()].sort().map((id) => bySpace.get(id) as RecordsByKind[K]);
  }

  /** Records of one kind in one space, unordered (cheap: for checks). */
  values<K extends RecordKind>(kind: K, space: string): Iterable<RecordsByKind[K]> {
    return this.tables[kind].get(space)?.values() ?? [];
  }

  /** The spaces that hold any record, sorted. */
  spaces(): string[] {
    const out = new Set<string>();
    for (const table of Object.values(this.tables)) {
      for (const [space, byId] of table) if (byId.size > 0) out.add(space);
    }
    return [...out].sort();
  }

  /** Every record as JSON under its store key (what the gateway wrote, for consistency checks). */
  snapshot(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const kind of Object.keys(this.tables) as RecordKind[]) {
      for (const [space, byId] of this.tables[kind]) {
        for (const [id, record] of byId)
          out[this.layout.key(kind, space, id)] = JSON.stringify(record);
      }
    }
    return out;
  }

  count(kind: RecordKind): number {
    let n = 0;
    for (const bySpace of this.tables[kind].values()) n += bySpace.size;
    return n;
  }

  /** The sync subscriptions of a space on this method and event type whose path has this shape. */
  syncRoutesLike(
    space: string,
    method: string,
    eventType: string,
    path: string,
  ): Iterable<SubscriptionRecord> {
    return (
      this.syncRoutes
        .get(space)
        ?.get(syncRouteKey(method, eventType, path))
        ?.values() ?? []
    );
  }

  /** Applies the cache's changes; returns them typed, and the values that could not be used. */
  apply(changes: readonly CacheChange[]): { applied: ConfigChange[]; invalid: InvalidRecord[] } {
    const applied: ConfigChange[] = [];
    const invalid: InvalidRecord[] = [];
    this.changed++;
    for (const change of changes) {
      const address = this.layout.parse(change.key);
      if (!address) continue;
      const { kind, space, id } = address;
      const table = this.tables[kind] as Table<ConfigRecord>;
      const prev = table.get(space)?.get(id);
      let record: ConfigRecord | undefined;
      if (change.kv) {
        // Only a listing prepares: a watched change skips the lookup (hashing a new object).
        const decoded =
          (this.prepared.size > 0 ? this.prepared.get(change.kv) : undefined) ??
          decode(change.kv.value, ID_FIELD[kind], id, space, this.filters);
        if (typeof decoded === 'string') invalid.push({ key: change.key, reason: decoded });
        else record = decoded;
      }
      if (record) {
        let bySpace = table.get(space);
        if (!bySpace) table.set(space, (bySpace = new Map()));
        bySpace.set(id, record);
      } else if (prev) {
        const bySpace = table.get(space) as Map<string, ConfigRecord>;
        bySpace.delete(id);
        if (bySpace.size === 0) table.delete(space);
      }
      if (kind === 'subscriptions') {
        this.indexSync(prev as SubscriptionRecord | undefined, 'remove');
        this.indexSync(record as SubscriptionRecord | undefined, 'add');
      }
      if (record || prev) applied.push({ resource: RESOURCE[kind], space, id, record, prev });
    }
    // Whatever was prepared and not applied (a listing that failed half-way) is let go.
    // (Clearing an empty map still makes it a new table.)
    if (this.prepared.size > 0) this.prepared.clear();
    return { applied, invalid };
  }

  private indexSync(sub: SubscriptionRecord | undefined, change: 'add' | 'remove'): void {
    if (sub?.type !== 'sync' || typeof sub.path !== 'string') return;
    const key = syncRouteKey(String(sub.method), String(sub.eventType), sub.path);
    let bySpace = this.syncRoutes.get(sub.space);
    let routes = bySpace?.get(key);
    if (change === 'add') {
      if (!bySpace) this.syncRoutes.set(sub.space, (bySpace = new Map()));
      if (!routes) bySpace.set(key, (routes = new Map()));
      routes.set(sub.subscriptionId, sub);
      return;
    }
    routes?.delete(sub.subscriptionId);
    if (routes?.size === 0) bySpace?.delete(key);
    if (bySpace?.size === 0) this.syncRoutes.delete(sub.space);
  }
}

/** Parses a stored value; a string is the reason it cannot be used. */
function decode(
  value: string,
  idField: string,
  id: string,
  space: string,
  filters: JsonInterner,
): ConfigRecord | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    // Not the parser's message: it quotes part of the value, which may hold a secret.
    return 'not JSON';
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return 'not a JSON object';
  }
  const record = parsed as Record<string, unknown>;
  if (record[idField] !== id) return `"${idField}" does not match the key`;
  if (record.space === undefined) record.space = space;
  else if (record.space !== space) return '"space" does not match the key';
  if (idField === 'subscriptionId' && record.filter !== undefined) {
    record.filter = filters.intern(record.filter);
  }
  return deepFreeze(record) as unknown as ConfigRecord;
}

function syncRouteKey(method: string, eventType: string, path: string): string {
  return `${method} ${eventType} ${routeShape(path)}`;
}

/**
 * A change as it may leave the gateway (`config.changed`): the secrets of function and connection
 * records masked. The same change when it holds none.
 * @example
 * ```ts
 * gateway.emit('config.changed', applied.map(changeWithoutSecrets), revision);
 * ```
 */
export function changeWithoutSecrets(change: ConfigChange): ConfigChange {
  const mask =
    change.resource === 'function'
      ? (r: ConfigRecord) => withoutSecrets(r as FunctionRecord)
      : change.resource === 'connection'
        ? (r: ConfigRecord) => connectionWithoutSecrets(r as ConnectionRecord)
        : undefined;
  if (!mask) return change;
  return {
    ...change,
    ...(change.record ? { record: mask(change.record) } : {}),
    ...(change.prev ? { prev: mask(change.prev) } : {}),
  };
}
