import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** A gateway in a child process (gateway-process.js), driven over IPC. */
export interface Instance {
  child: ChildProcess;
  ask<T>(cmd: string, reply: string): Promise<T>;
}

/** Starts a gateway process on a store given by `STORE_KIND` and `STORE_ADDRESS` in `env`. */
export function startInstance(
  env: Record<string, string>,
  prefix: string,
  name: string,
  seed: number,
): Promise<Instance> {
  const child = fork(join(__dirname, 'gateway-process.js'), {
    env: {
      ...process.env,
      ...env,
      GATEWAY_PREFIX: prefix,
      INSTANCE_NAME: name,
      SEED: String(seed),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ask = <T>(cmd: string, reply: string) =>
    new Promise<T>((resolve) => {
      const onMessage = (m: { cmd: string }) => {
        if (m.cmd === reply) {
          child.off('message', onMessage);
          resolve(m as T);
        }
      };
      child.on('message', onMessage);
      child.send({ cmd });
    });
  return new Promise((resolve, reject) => {
    child.once('message', (m: { cmd: string }) =>
      m.cmd === 'ready' ? resolve({ child, ask }) : reject(new Error(String(m.cmd))),
    );
    child.once('exit', (code) => reject(new Error(`instance ${name} exited with ${code}`)));
  });
}

/** Stops the instances' writers; each must have written something. */
export async function stopWriting(instances: readonly Instance[]): Promise<void> {
  const stats = [];
  for (const instance of instances) {
    stats.push(await instance.ask<{ stats: { ok: number } }>('stop', 'stopped'));
  }
  expect(stats.map((s) => s.stats.ok > 0)).toEqual(instances.map(() => true));
}

/** Waits until every instance's configuration equals `expected`, then expects it. */
export async function expectInstancesConverged(
  instances: readonly Instance[],
  expected: Record<string, string>,
  timeoutMs = 30_000,
): Promise<void> {
  const sortKeys = (record: Record<string, string>) =>
    Object.entries(record).sort(([a], [b]) => (a < b ? -1 : 1));
  for (const instance of instances) {
    const deadline = Date.now() + timeoutMs;
    let snapshot: Record<string, string> = {};
    for (;;) {
      ({ snapshot } = await instance.ask<{ snapshot: Record<string, string> }>(
        'snapshot',
        'snapshot',
      ));
      if (
        JSON.stringify(sortKeys(snapshot)) === JSON.stringify(sortKeys(expected)) ||
        Date.now() > deadline
      )
        break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(sortKeys(snapshot)).toEqual(sortKeys(expected));
  }
}
