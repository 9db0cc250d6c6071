import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../../lib/store/start-etcd';

import { CACHE } from '../../scripts/servers';
const ROOT = `${CACHE}/serverless`;
const SERVERLESS = `${ROOT}/node_modules/serverless/bin/serverless.js`;

/** A Lambda emulator (serverless-offline) running real handler code. */
export interface RunningLambda {
  /** The endpoint to give the Lambda client. */
  readonly endpoint: string;
  /** The name Lambda knows a handler by: `eg-test-<name>`. */
  name(handler: string): string;
  stop(): Promise<void>;
}

/**
 * Starts serverless-offline with the given handlers (CommonJS source of a module whose exports
 * are the handlers). The service lives under the cache directory so that its plugin resolves.
 */
export async function startLambda(source: string, handlers: string[]): Promise<RunningLambda> {
  if (!existsSync(SERVERLESS)) {
    throw new Error(
      `serverless-offline is not installed: run "sudo bash scripts/test-servers.sh" (looked for ${SERVERLESS}).`,
    );
  }
  await mkdir(`${ROOT}/services`, { recursive: true });
  const dir = await mkdtemp(`${ROOT}/services/eg-`);
  const [lambdaPort, httpPort] = [await freePort(), await freePort()];
  await writeFile(join(dir, 'handler.js'), source);
  await writeFile(
    join(dir, 'serverless.yml'),
    [
      'service: eg',
      'frameworkVersion: "3"',
      'provider: { name: aws, runtime: nodejs20.x, stage: test, region: us-east-1 }',
      'plugins: [serverless-offline]',
      `custom: { serverless-offline: { host: 127.0.0.1, lambdaPort: ${lambdaPort}, httpPort: ${httpPort}, noPrependStageInUrl: true } }`,
      'functions:',
      ...handlers.map((h) => `  ${h}: { handler: handler.${h} }`),
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(process.execPath, [SERVERLESS, 'offline', 'start'], {
    cwd: dir,
    env: {
      ...process.env,
      SLS_TELEMETRY_DISABLED: '1',
      SLS_NOTIFICATIONS_MODE: 'off',
      SLS_DEPRECATION_DISABLE: '*',
      AWS_ACCESS_KEY_ID: 'x',
      AWS_SECRET_ACCESS_KEY: 'x',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => (output = (output + chunk).slice(-8000));
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const endpoint = `http://127.0.0.1:${lambdaPort}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`serverless-offline exited: ${output}`);
    try {
      const res = await fetch(
        `${endpoint}/2015-03-31/functions/eg-test-${handlers[0]}/invocations`,
        {
          method: 'POST',
          body: '{"warmup":true}',
        },
      );
      await res.arrayBuffer();
      if (res.status < 500) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`serverless-offline did not answer on ${endpoint} within 30 s: ${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    endpoint,
    name: (handler) => `eg-test-${handler}`,
    stop: async () => {
      if (child.exitCode === null) {
        await new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 3000).unref();
        });
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
