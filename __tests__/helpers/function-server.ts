import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
}

/** What the server does with request number `n` (0-based). */
export type Behaviour = (
  n: number,
  req: IncomingMessage,
  res: ServerResponse,
  body: string,
) => void | Promise<void>;

/** A real HTTP function server on loopback that records what it receives. */
export class FunctionServer {
  readonly requests: ReceivedRequest[] = [];
  private server!: Server;
  url = '';

  private constructor(private behaviour: Behaviour) {}

  static async start(behaviour: Behaviour = json(200, { ok: true })): Promise<FunctionServer> {
    const fs = new FunctionServer(behaviour);
    fs.server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        const n = fs.requests.length;
        fs.requests.push({
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body,
          at: Date.now(),
        });
        void fs.behaviour(n, req, res, body);
      });
    });
    await new Promise<void>((resolve) => fs.server.listen(0, '127.0.0.1', resolve));
    fs.url = `http://127.0.0.1:${(fs.server.address() as AddressInfo).port}/`;
    return fs;
  }

  respond(behaviour: Behaviour): void {
    this.behaviour = behaviour;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Behaviour {
  return (_n, _req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
}

/** Answers each request with the next behaviour of the list (the last one repeats). */
export function sequence(...behaviours: Behaviour[]): Behaviour {
  return (n, req, res, body) => behaviours[Math.min(n, behaviours.length - 1)](n, req, res, body);
}

/** Never answers (until the server stops). */
export const hang: Behaviour = () => undefined;

/** Destroys the connection without answering. */
export const reset: Behaviour = (_n, req) => {
  req.socket.destroy();
};

/** A promise with its resolve function, to hold a request until a test releases it. */
export function latch(): { promise: Promise<void>; release: () => void } {
  let release!: () => void;
  const promise = new Promise<void>((resolve) => (release = resolve));
  return { promise, release };
}
