import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort, startConsul, startEtcd, startZooKeeper } from '../../lib';
import { CONSUL_BINARY } from '../helpers/servers';
import { addressOf, type StoreKind } from '../helpers/store-servers';

/**
 * Runs awaiting-script.js as a real host process (built package) and reports how it ended. A
 * process still running after `limit` ms is killed: an await that never settles must not hang a
 * test either.
 */
function run(env: Record<string, string>, limit = 20_000) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [join(__dirname, 'awaiting-script.js')], {
      stdio: 'pipe',
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), limit);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: stdout.trim(), stderr });
    });
  });
}

async function startServer(kind: StoreKind) {
  if (kind === 'etcd') {
    const etcd = await startEtcd();
    return { port: etcd.clientPort, pid: etcd.process.pid!, stop: () => etcd.stop() };
  }
  if (kind === 'zookeeper') {
    const zk = await startZooKeeper();
    return { port: zk.clientPort, pid: zk.process.pid!, stop: () => zk.stop() };
  }
  const consul = await startConsul({ binary: CONSUL_BINARY });
  return { port: consul.httpPort, pid: consul.process.pid!, stop: () => consul.stop() };
}

jest.setTimeout(60_000);

describe('an awaited operation always settles: the process waits for its typed error', () => {
  test.each(['etcd', 'zookeeper', 'consul'] as const)(
    '%s: ready() with no server rejects with STORE_UNAVAILABLE, and the script exits 1',
    async (kind) => {
      const address = addressOf(kind, await freePort());
      const { code, stdout } = await run({
        STORE_KIND: kind,
        STORE_ADDRESS: address,
        MODE: 'ready',
      });
      expect({ code, stdout }).toEqual({ code: 1, stdout: 'rejected STORE_UNAVAILABLE' });
    },
  );

  test.each([
    ['etcd', 'register'],
    ['etcd', 'put'],
    ['zookeeper', 'register'],
    ['consul', 'register'],
  ] as const)(
    '%s: a write (%s) awaited right after the server is killed rejects, and the script exits 1',
    async (kind, mode) => {
      const server = await startServer(kind);
      try {
        const { code, stdout } = await run({
          STORE_KIND: kind,
          STORE_ADDRESS: addressOf(kind, server.port),
          SERVER_PID: String(server.pid),
          MODE: mode,
        });
        // Killed before the write: nothing of it can have been sent, so it was not applied.
        expect({ code, stdout }).toEqual({ code: 1, stdout: 'rejected STORE_UNAVAILABLE' });
      } finally {
        await server.stop();
      }
    },
  );
});
