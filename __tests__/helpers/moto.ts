import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { freePort } from '../../lib/store/start-etcd';

const CACHE = process.env.EVENT_GATEWAY_TEST_CACHE ?? '/var/cache/event-gateway-test';
const MOTO = `${CACHE}/moto/usr/lib/python3/dist-packages`;

/** A moto server (SQS, Kinesis, Firehose, S3 over AWS's wire protocols) on a free loopback port. */
export interface RunningMoto {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** Starts moto; fails with the command that installs it when it is missing. */
export async function startMoto(): Promise<RunningMoto> {
  if (!existsSync(`${MOTO}/moto`)) {
    throw new Error(
      `moto is not installed: run "sudo bash scripts/test-servers.sh" (looked in ${MOTO}).`,
    );
  }
  const port = await freePort();
  const child: ChildProcess = spawn(
    '/usr/bin/python3',
    ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)],
    { env: { ...process.env, PYTHONPATH: MOTO }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto exited (${child.exitCode}): ${stderr}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/`);
      await res.arrayBuffer();
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`moto did not answer on ${endpoint} within 20 s: ${stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    endpoint,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Credentials moto accepts (any), and the region the tests use. */
export const AWS_TEST = {
  region: 'us-east-1',
  awsAccessKeyId: 'AKIDTESTTESTTEST',
  awsSecretAccessKey: 'moto-secret-never-shown',
} as const;
