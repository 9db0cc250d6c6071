/** The four kinds of configuration records, named as their key segment. */
export type RecordKind = 'eventtypes' | 'functions' | 'subscriptions' | 'cors' | 'connections';

const KINDS: readonly RecordKind[] = [
  'eventtypes',
  'functions',
  'subscriptions',
  'cors',
  'connections',
];

/** Where a record lives: `<root>/<kind>/<space>/<id>`, Event Gateway 0.9's layout. */
export interface RecordAddress {
  readonly kind: RecordKind;
  readonly space: string;
  readonly id: string;
}

/** The default root prefix, the one Event Gateway 0.9 used, so its stores load as they are. */
export const DEFAULT_ROOT = '/serverless-event-gateway';

/** Builds and parses the store keys of configuration records under one root prefix. */
export class KeyLayout {
  /** The prefix every configuration key starts with (ends with `/`). */
  readonly prefix: string;

  constructor(root: string = DEFAULT_ROOT) {
    this.prefix = root.endsWith('/') ? root : root + '/';
  }

  key(kind: RecordKind, space: string, id: string): string {
    return `${this.prefix}${kind}/${space}/${id}`;
  }

  /**
   * The prefix of the sources' leases (who runs which unit of work: a schedule's tick, a queue's
   * consumer): beside the configuration, not under it, so that renewing a lease never reaches the
   * configuration watch of every instance.
   * @example
   * ```ts
   * new KeyLayout().leasePrefix; // '/serverless-event-gateway.leases/'
   * ```
   */
  get leasePrefix(): string {
    return `${this.prefix.slice(0, -1)}.leases/`;
  }

  /** The prefix of every record of one kind in one space. */
  spacePrefix(kind: RecordKind, space: string): string {
    return `${this.prefix}${kind}/${space}/`;
  }

  /** The address of a key, or undefined when the key is not a configuration record. */
  parse(key: string): RecordAddress | undefined {
    if (!key.startsWith(this.prefix)) return undefined;
    // `<kind>/<space>/<id>` after the prefix, cut by position: every watched change is parsed,
    // and a split would make an array and a copy of the rest first.
    const start = this.prefix.length;
    const first = key.indexOf('/', start);
    const second = first < 0 ? -1 : key.indexOf('/', first + 1);
    if (second < 0 || second === first + 1 || second === key.length - 1) return undefined;
    if (key.indexOf('/', second + 1) >= 0) return undefined;
    const kind = key.slice(start, first) as RecordKind;
    if (!KINDS.includes(kind)) return undefined;
    return { kind, space: key.slice(first + 1, second), id: key.slice(second + 1) };
  }
}
