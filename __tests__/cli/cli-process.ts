// The `event-gateway` command as a real child process, and a real HTTP function for it to call.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { request } from 'undici';
import { freePort } from '../../lib';

export const BIN = join(__dirname, '..', '..', 'bin', 'event-gateway.js');
const children: ChildProcess[] = [];

export interface Running {
  child: ChildProcess;
  events: string;
  config: string;
  /** The connections API's own port (0.9's connector's). */
  connector: string;
  output: () => string;
  exited: Promise<number | null>;
}

export function run(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  children.push(child);
  let output = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => {
    output += chunk;
    stderr += chunk;
  });
  // 'close', not 'exit': at 'exit' the child's last stderr may not have been read yet (a refusal's
  // one line was seen missing once, under load).
  const exited = new Promise<number | null>((resolve) =>
    child.once('close', (code) => resolve(code)),
  );
  return { child, output: () => output, stderr: () => stderr, exited };
}

export async function start(args: string[], env: Record<string, string> = {}): Promise<Running> {
  const [eventsPort, configPort, connectorPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const started = run(
    [
      '-events-port',
      String(eventsPort),
      '-config-port',
      String(configPort),
      '-connector-port',
      String(connectorPort),
      ...args,
    ],
    env,
  );
  const deadline = Date.now() + 20_000;
  while (!started.output().includes('event gateway started')) {
    if (started.child.exitCode !== null) throw new Error(`exited: ${started.output()}`);
    if (Date.now() > deadline) throw new Error(`did not start: ${started.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    ...started,
    events: `http://127.0.0.1:${eventsPort}`,
    config: `http://127.0.0.1:${configPort}`,
    connector: `http://127.0.0.1:${connectorPort}`,
  };
}

/** The JSON log lines of a command's output (text lines are skipped). */
export function logLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** What the command logged when it started: `events` and `config` are `host:port`. */
export function startedLine(running: { output: () => string }) {
  const line = logLines(running.output()).find((l) => l.msg === 'event gateway started');
  if (!line) throw new Error(`no start line in: ${running.output()}`);
  return line as { events: string; config: string; privateFunctions: boolean };
}

/** Registers function `fn` at `url`, event type `order.placed` and an async subscription (201s). */
export async function configure(config: string, url: string): Promise<void> {
  const post = async (path: string, body: unknown) => {
    const res = await request(`${config}/v1/spaces/default${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    await res.body.text();
    expect(res.statusCode).toBe(201);
  };
  await post('/functions', { functionId: 'fn', type: 'http', provider: { url } });
  await post('/eventtypes', { name: 'order.placed' });
  await post('/subscriptions', {
    type: 'async',
    eventType: 'order.placed',
    functionId: 'fn',
    path: '/',
  });
}

/** Sends an `order.placed` event to an Events API (structured CloudEvents); its status. */
export async function emit(events: string, id: string): Promise<number> {
  const res = await request(`${events}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents+json' },
    body: JSON.stringify({ specversion: '1.0', id, source: '/cli', type: 'order.placed' }),
  });
  await res.body.text();
  return res.statusCode;
}

/** A real HTTP function: records events, answers after `delay` ms; `fail` makes it answer 500. */
export async function functionServer(delay = 0) {
  const received: { id: string; type: string }[] = [];
  const state = { fail: false };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () =>
      setTimeout(() => {
        const event = JSON.parse(body || '{}');
        received.push({ id: event.id, type: event.type });
        res.statusCode = state.fail ? 500 : 200;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ statusCode: 200, body: `hello ${event.data?.path ?? ''}` }));
      }, delay),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    received,
    state,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
  };
}

/** Kills every command still running (after each test). */
export function killChildren(): void {
  for (const child of children.splice(0)) child.kill('SIGKILL');
}
