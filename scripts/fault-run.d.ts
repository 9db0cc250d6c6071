/** A store a fault run covers. */
export type FaultStoreKind = 'zookeeper' | 'consul' | 'etcd';
/** The stores a fault run covers. */
export const KINDS: FaultStoreKind[];

/** A store server of one kind that a fault run kills and restarts (with its data). */
export interface FaultServer {
  readonly kind: FaultStoreKind;
  readonly port: number;
  dispose(): Promise<void>;
}

/** What one diverging gateway held, against the store, with what its store link saw. */
export interface FaultDivergence {
  readonly instance: number;
  readonly health: Record<string, unknown>;
  readonly differs: { key: string; cache?: string; store?: string; seen: string[] }[];
  readonly link: string[];
}

/** One seed's outcome. */
export interface FaultResult {
  readonly seed: number;
  readonly diverged: boolean;
  /** The faults' timing, drawn from the seed (ms). */
  readonly plan: Record<string, number>;
  /** Each gateway's writes: succeeded, refused, store unavailable. */
  readonly stats: { ok: number; refused: number; unavailable: number }[];
  readonly details?: FaultDivergence[];
}

/** Starts a server of a kind on its own ports and data directory. */
export function startServer(kind: FaultStoreKind): Promise<FaultServer>;
/** Runs one seed on a server. */
export function faultRun(
  server: FaultServer,
  seed: number,
  log?: (line: string) => void,
): Promise<FaultResult>;
/** Runs seeds on each kind, one at a time, each kind on a server of its own. */
export function runFaults(options: {
  kinds?: FaultStoreKind[];
  seeds: number[];
  log?: (line: string) => void;
  onResult?: (result: FaultResult & { kind: FaultStoreKind; ms: number }) => void;
}): Promise<(FaultResult & { kind: FaultStoreKind; ms: number })[]>;
