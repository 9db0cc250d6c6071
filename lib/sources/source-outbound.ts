import { isIP, connect as netConnect, Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { guardAgent } from '../delivery/providers/guarded-agent';
import { guardedConnectOptions } from '../delivery/providers/guarded-lookup';
import type { OutboundCheck } from '../model/outbound-policy';

// A connection's hosts are checked against its writer's outbound policy when it is written, on
// the names; here they are checked again on every connect, on the addresses the names resolve to
// then (DNS may have been re-pointed at a loopback, private or metadata address since). The
// checks themselves are the HTTP functions' (guarded-lookup.ts): one logic for both.

/** The options of kafkajs's `socketFactory` (what the Kafka source passes on). */
interface KafkaSocketOptions {
  host: string;
  port: number;
  ssl?: ConnectionOptions | boolean;
  onConnect: () => void;
}

/** As kafkajs's own default. */
const KEEP_ALIVE_DELAY = 60_000;

/**
 * A kafkajs `socketFactory` whose connections to brokers pass `check` (kafkajs's default one,
 * plus the check): a refused broker fails the socket with the refusal, as a refused TCP
 * connection would.
 * @example
 * ```ts
 * new Kafka({ brokers, socketFactory: kafkaSocketFactory(check) });
 * ```
 */
export function kafkaSocketFactory(check: OutboundCheck) {
  return ({ host, port, ssl, onConnect }: KafkaSocketOptions): Socket => {
    let guard: ReturnType<typeof guardedConnectOptions>;
    try {
      guard = guardedConnectOptions(check, host, port);
    } catch (refusal) {
      const socket = new Socket();
      process.nextTick(() => socket.destroy(refusal as Error));
      return socket;
    }
    const socket = ssl
      ? tlsConnect(
          {
            host,
            port,
            // As kafkajs: no SNI for an IP literal (RFC 6066).
            ...(isIP(host) ? {} : { servername: host }),
            ...(ssl === true ? {} : ssl),
            ...guard,
          },
          onConnect,
        )
      : netConnect({ host, port, ...guard }, onConnect);
    socket.setKeepAlive(true, KEEP_ALIVE_DELAY);
    return socket;
  };
}

/**
 * The socket options for amqplib's `connect(url, options)` to the URL's host: its lookup checked
 * (amqplib passes them to net/tls.connect). Throws the refusal when the host is a forbidden IP
 * literal.
 * @example
 * ```ts
 * await amqp.connect(url, amqpSocketOptions(check, url));
 * ```
 */
export function amqpSocketOptions(check: OutboundCheck, url: string): Record<string, unknown> {
  const parsed = new URL(url);
  const port = Number(parsed.port || (parsed.protocol === 'amqps:' ? 5671 : 5672));
  // URL keeps an IPv6 literal's brackets; net wants the bare address.
  return guardedConnectOptions(check, parsed.hostname.replace(/^\[|\]$/g, ''), port);
}

/**
 * The agents of an AWS SDK `NodeHttpHandler` whose connections pass `check` (keep-alive, as the
 * SDK's own).
 * @example
 * ```ts
 * new NodeHttpHandler(awsAgents(check));
 * ```
 */
export function awsAgents(check: OutboundCheck): { httpAgent: unknown; httpsAgent: unknown } {
  // Required here: node:https (and TLS behind it) costs milliseconds to load.
  /* eslint-disable @typescript-eslint/no-require-imports -- lazy on purpose */
  const { Agent: HttpAgent } = require('node:http') as typeof import('node:http');
  const { Agent: HttpsAgent } = require('node:https') as typeof import('node:https');
  /* eslint-enable @typescript-eslint/no-require-imports */
  return {
    httpAgent: guardAgent(new HttpAgent({ keepAlive: true }), check),
    httpsAgent: guardAgent(new HttpsAgent({ keepAlive: true }), check),
  };
}

/**
 * The outbound refusal (`EOUTBOUNDDENIED`, from guarded-lookup.ts) behind a source's failure, if
 * it is one: client libraries wrap their socket errors (`cause`, kafkajs's `originalError` and
 * its copied `code`, an AggregateError's `errors`).
 * @example
 * ```ts
 * if (outboundRefusalIn(error)) health.lastErrorCode = 'OUTBOUND_REFUSED';
 * ```
 */
export function outboundRefusalIn(error: unknown): Error | undefined {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length > 0 && seen.size < 32) {
    const next = queue.shift();
    if (typeof next !== 'object' || next === null || seen.has(next)) continue;
    seen.add(next);
    const { code, cause, originalError, errors } = next as Record<string, unknown>;
    if (code === 'EOUTBOUNDDENIED') return next as Error;
    queue.push(cause, originalError, ...(Array.isArray(errors) ? errors : []));
  }
  return undefined;
}
