import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One call that went through the proxy. */
export interface ProxiedCall {
  /** The action: `X-Amz-Target` (`AmazonSQS.SendMessageBatch`) or the path for REST APIs. */
  readonly action: string;
  readonly body: string;
}

/** A fault to inject instead of forwarding: an AWS-style error answer. */
export interface InjectedAnswer {
  readonly status: number;
  readonly body: string;
  readonly headers?: Record<string, string>;
}

/**
 * A recording proxy in front of a real AWS-protocol server (moto): it forwards every call, keeps
 * the action names for assertions, and can inject faults (`answer`) or edit a real answer
 * (`rewrite`, e.g. to turn one entry of a real batch answer into a failure).
 */
export class AwsProxy {
  readonly calls: ProxiedCall[] = [];
  /** An injected answer, `'hang'` to never answer, or undefined to forward. */
  answer: ((call: ProxiedCall) => InjectedAnswer | 'hang' | undefined) | undefined;
  /** Connections of calls left hanging, closed when their client gives up. */
  readonly hanging = new Set<import('node:http').ServerResponse>();
  rewrite: ((call: ProxiedCall, body: string) => string) | undefined;
  private readonly server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const call = { action: String(req.headers['x-amz-target'] ?? req.url), body };
      this.calls.push(call);
      const injected = this.answer?.(call);
      if (injected === 'hang') {
        this.hanging.add(res);
        res.on('close', () => this.hanging.delete(res));
        return;
      }
      if (injected) {
        res.writeHead(injected.status, {
          'content-type': 'application/x-amz-json-1.0',
          ...injected.headers,
        });
        res.end(injected.body);
        return;
      }
      const upstream = request(
        this.target + (req.url ?? '/'),
        { method: req.method, headers: forwardable(req.headers, body) },
        (answer) => {
          const parts: Buffer[] = [];
          answer.on('data', (c: Buffer) => parts.push(c));
          answer.on('end', () => {
            let text = Buffer.concat(parts).toString('utf8');
            if (this.rewrite) text = this.rewrite(call, text);
            const headers = {
              ...answer.headers,
              'content-length': String(Buffer.byteLength(text)),
            };
            delete headers['transfer-encoding'];
            res.writeHead(answer.statusCode ?? 502, headers);
            res.end(text);
          });
        },
      );
      upstream.on('error', () => res.destroy());
      upstream.end(body);
    });
  });

  constructor(private readonly target: string) {}

  /** Listens on a free loopback port; resolves with the proxy's endpoint. */
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Action names called so far (`SendMessageBatch`...), without their service prefix. */
  actions(): string[] {
    return this.calls.map((c) => c.action.split('.').pop() as string);
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function forwardable(headers: IncomingHttpHeaders, body: string): IncomingHttpHeaders {
  const out = { ...headers, 'content-length': String(Buffer.byteLength(body)) };
  delete out['transfer-encoding'];
  return out;
}
