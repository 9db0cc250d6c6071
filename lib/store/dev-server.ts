import type { ChildProcess } from 'node:child_process';
import { StoreUnavailableError } from '../errors';

// Loaded on first use: a gateway that never starts a server should not pay for these modules.
/* eslint-disable @typescript-eslint/no-require-imports */
const childProcess = () => require('node:child_process') as typeof import('node:child_process');
const fs = () => require('node:fs/promises') as typeof import('node:fs/promises');
const net = () => require('node:net') as typeof import('node:net');
const os = () => require('node:os') as typeof import('node:os');
const path = () => require('node:path') as typeof import('node:path');
/* eslint-enable @typescript-eslint/no-require-imports */

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net().createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * `count` distinct free ports on 127.0.0.1 (each held until all are found: asked one at a time,
 * a port let go may be handed out again, and a server given the same port twice will not start).
 * `taken` are never returned.
 */
export async function freePorts(count: number, taken: readonly number[] = []): Promise<number[]> {
  const servers: import('node:net').Server[] = [];
  const ports: number[] = [];
  try {
    while (ports.length < count) {
      const server = net().createServer();
      server.unref();
      servers.push(server);
      const port = await new Promise<number>((resolve, reject) => {
        server.on('error', reject);
        server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
      });
      if (!taken.includes(port)) ports.push(port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

/** A new temporary directory named after the server. */
export function temporaryDirectory(server: string): Promise<string> {
  return fs().mkdtemp(path().join(os().tmpdir(), `event-gateway-${server}-`));
}

/** What {@link spawnDevServer} needs to know about one server. */
export interface DevServerSpec {
  /** The helper's name, for errors (`startEtcd`). */
  readonly helper: string;
  readonly binary: string;
  /** What the binary is, for errors (`etcd`, `java`). */
  readonly program: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** The data directory; removed on stop when `ownDir`. */
  readonly dataDir: string;
  readonly ownDir: boolean;
  /** What to tell a user whose machine lacks the binary. */
  readonly installHint: string;
  /** True once the server answers. */
  ready(): Promise<boolean>;
  /** How long to wait for `ready`, in ms. */
  readonly startTimeout: number;
}

/** A server process started by {@link spawnDevServer}. */
export interface DevServerProcess {
  readonly process: ChildProcess;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and removes an own data directory. Idempotent. */
  stop(options?: { kill?: boolean }): Promise<void>;
}

function probe(): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), 100));
}

/**
 * Starts a throwaway server process and waits until it answers. A missing binary, an early exit
 * or a server that never answers is a StoreUnavailableError saying what to install or what the
 * server printed.
 */
export async function spawnDevServer(spec: DevServerSpec): Promise<DevServerProcess> {
  const child = childProcess().spawn(spec.binary, [...spec.args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: spec.env ?? process.env,
  });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );

  let stopped: Promise<void> | undefined;
  const running: DevServerProcess = {
    process: child,
    stop: ({ kill = false } = {}) =>
      (stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill(kill ? 'SIGKILL' : 'SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(timer);
        }
        if (spec.ownDir) await fs().rm(spec.dataDir, { recursive: true, force: true });
      })()),
  };

  const deadline = Date.now() + spec.startTimeout;
  for (;;) {
    const failure = await Promise.race([
      spawnError,
      exited.then((code) => new Error(`exited with code ${code}: ${output.trim()}`)),
      probe(),
    ]);
    if (failure) {
      await running.stop();
      if ((failure as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new StoreUnavailableError(
          `${spec.helper}: no ${spec.program} binary at "${spec.binary}". ${spec.installHint} or pass { binary }.`,
        );
      }
      throw new StoreUnavailableError(`${spec.helper}: ${failure.message}`);
    }
    if (await spec.ready()) return running;
    if (Date.now() > deadline) {
      await running.stop({ kill: true });
      throw new StoreUnavailableError(
        `${spec.helper}: the server did not answer within ${spec.startTimeout} ms: ${output.trim()}`,
      );
    }
  }
}
