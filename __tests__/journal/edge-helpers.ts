// What the journal's edge tests share: a gateway process (edge-child.js) driven over IPC and
// SIGKILLed, and a real http function whose answer each test decides.
import { fork, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { journalFixture } from './journal-fixture';

type Message = Record<string, unknown>;

/** A gateway process (edge-child.js) and what it said. */
export class EdgeChild {
  readonly messages: Message[] = [];
  private constructor(readonly process: ChildProcess) {
    process.on('message', (m: Message) => this.messages.push(m));
    process.on('error', () => undefined); // EPIPE after a kill
  }

  /** Starts one with edge-child.js's options; resolves once its gateway is ready. */
  static async start(options: Record<string, unknown>): Promise<EdgeChild> {
    const child = new EdgeChild(
      fork(join(__dirname, 'edge-child.js'), [JSON.stringify(options)], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    await child.until((m) => m.ready === true, 'ready');
    return child;
  }

  get exited(): boolean {
    return this.process.exitCode !== null || this.process.signalCode !== null;
  }

  async until(match: (m: Message) => boolean, what: string, timeout = 20_000): Promise<Message> {
    const deadline = Date.now() + timeout;
    for (;;) {
      const found = this.messages.find(match);
      if (found) return found;
      if (Date.now() > deadline || this.exited) {
        throw new Error(`the gateway process never said ${what}: ${JSON.stringify(this.messages)}`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Emits the events; resolves once each was accepted (throws if one was refused). */
  async emit(ids: string[]): Promise<void> {
    for (const id of ids) this.process.send({ emit: id });
    for (const id of ids) {
      const answer = await this.until((m) => m.id === id, `the outcome of ${id}`);
      if (answer.accepted !== true) throw new Error(`${id} was refused: ${String(answer.code)}`);
    }
  }

  said(key: string): unknown[] {
    return this.messages.filter((m) => m[key] !== undefined).map((m) => m[key]);
  }

  /** Resolves once its journal holds no delivery (asking its health every 20 ms). */
  async untilJournalEmpty(timeout = 20_000): Promise<void> {
    const deadline = Date.now() + timeout;
    for (;;) {
      const from = this.messages.length;
      this.process.send({ health: true });
      const { health } = await this.until(
        (m) => this.messages.indexOf(m) >= from && m.health !== undefined,
        'its health',
      );
      const entries = (health as { journal: { entries: number } }).journal.entries;
      if (entries === 0) return;
      if (Date.now() > deadline) throw new Error(`the journal still holds ${entries} deliveries`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Resolves once the process exited by itself (it is not killed). */
  async exit(timeout = 20_000): Promise<void> {
    if (this.exited) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('the gateway process did not exit')),
        timeout,
      );
      this.process.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async kill(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise((r) => this.process.once('exit', r));
    this.process.kill('SIGKILL');
    await exited;
  }
}

/** How the function answers one request: a status (429 with Retry-After: 60), or `hold` (never answers). */
export type Answer = number | 'hold';

/** A real http function: `answer` decides each request's fate; `received` lists event IDs. */
export async function edgeFunction(answer: (id: string, nth: number) => Answer) {
  const received: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const { id } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: string };
      received.push(id);
      const status = answer(id, received.filter((r) => r === id).length);
      if (status === 'hold') return;
      res.statusCode = status;
      // A function that is overloaded asks for a minute's rest.
      if (status === 429) res.setHeader('retry-after', '60');
      res.end('answer');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    server,
    received,
    url,
    close(): void {
      server.closeAllConnections();
      server.close();
    },
  };
}

/**
 * A fresh journal directory per test and `start`, which starts a gateway process on it (killed
 * after the test, if still running).
 */
export function edgeChildren(prefix: string) {
  const fx = journalFixture(prefix);
  const children: EdgeChild[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) await child.kill();
  });
  return {
    fx,
    async start(options: Record<string, unknown>): Promise<EdgeChild> {
      const child = await EdgeChild.start({ directory: fx.dir, ...options });
      children.push(child);
      return child;
    },
  };
}
