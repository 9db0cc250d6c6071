import type { ClientHttp2Session, IncomingHttpHeaders, IncomingHttpStatusHeader } from 'node:http2';
import {
  decodeAuthenticateResponse,
  decodeWatchResponse,
  encodeAuthenticate,
  encodeWatchCreate,
  grpcDeframer,
  grpcFrame,
  type WatchResponseMessage,
} from './etcd-wire';

/**
 * What one etcd watch stream reports to its owner. After `canceled` or `failed` nothing more is
 * reported and the stream is closed.
 */
export interface WatchStreamHandlers {
  /** etcd created the watch; its header tells the store's revision and cluster at that moment. */
  created(res: WatchResponseMessage): void;
  /** Events (one revision's or more), or none: a progress notification. */
  response(res: WatchResponseMessage): void;
  /** etcd ended the watch itself: compaction (`res.compactRevision`), permissions, ... */
  canceled(reason: string): void;
  /** The connection or the stream failed. */
  failed(error: Error): void;
}

/** Opens a watch of [key, rangeEnd) from `fromRevision`; `close` stops it, reporting nothing. */
export type WatchStreamOpener = (
  key: Buffer,
  rangeEnd: Buffer,
  fromRevision: number,
  handlers: WatchStreamHandlers,
) => { close(): void };

/** Where and how {@link http2WatchStream} connects. */
export interface WatchStreamOptions {
  /** One etcd client URL (`http://` or `https://`; a bare `host:port` is plain). */
  url: string;
  /** TLS, whatever the URL's scheme (the EtcdStore's `tls` option). */
  tls?: { rootCertificate: Buffer; privateKey?: Buffer; certChain?: Buffer };
  /** etcd user and password: a token is asked for each stream. */
  auth?: { username: string; password: string };
  /** How long etcd has to create the watch, in ms. */
  timeout: number;
  /** HTTP/2 pings: their interval and how long an answer may take, in ms. */
  keepaliveTime: number;
  keepaliveTimeout: number;
}

const WATCH = '/etcdserverpb.Watch/Watch';
const AUTHENTICATE = '/etcdserverpb.Auth/Authenticate';

function grpcRequest(path: string, token?: string): Record<string, string> {
  return {
    ':method': 'POST',
    ':path': path,
    'content-type': 'application/grpc',
    te: 'trailers',
    ...(token === undefined ? {} : { token }),
  };
}

/** The failure a gRPC status names, or undefined for OK (or no status in these headers). */
function grpcFailure(headers: IncomingHttpHeaders & IncomingHttpStatusHeader): Error | undefined {
  const status = headers['grpc-status'];
  if (status === undefined || status === '0') return undefined;
  const message = decodeURIComponent(String(headers['grpc-message'] ?? ''));
  return new Error(`${message || 'etcd refused the call'} (gRPC status ${String(status)})`);
}

/** A unary call: one request message, one answer. */
function unary(session: ClientHttp2Session, path: string, message: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const stream = session.request(grpcRequest(path));
    let answer: Buffer | undefined;
    let failure: Error | undefined;
    const deframe = grpcDeframer((buf, start, end) => {
      answer ??= Buffer.from(buf.subarray(start, end));
    });
    stream.on('response', (headers) => (failure ??= grpcFailure(headers)));
    stream.on('trailers', (trailers) => (failure ??= grpcFailure(trailers)));
    stream.on('data', (chunk: Buffer) => deframe(chunk));
    stream.on('error', reject);
    stream.on('close', () => {
      if (failure || !answer) reject(failure ?? new Error(`${path}: no answer`));
      else resolve(answer);
    });
    stream.end(grpcFrame(message));
  });
}

/**
 * One etcd watch over node:http2 with gRPC framed by hand (see `etcd-wire.ts`): no gRPC library,
 * a few µs of decoding per change. One HTTP/2 connection per watch, closed with it; any failure
 * (connection cut, GOAWAY, a ping unanswered within `keepaliveTimeout`, no `created` within
 * `timeout`, a malformed message) ends it with `failed`, never a silent resume: the owner relists.
 *
 * @example
 * ```ts
 * const stream = http2WatchStream({ url, timeout: 5000, keepaliveTime: 10_000, keepaliveTimeout: 5000 })(
 *   Buffer.from('/a/'), prefixEnd('/a/'), revision + 1, handlers,
 * );
 * ```
 */
export function http2WatchStream(options: WatchStreamOptions): WatchStreamOpener {
  return (key, rangeEnd, fromRevision, handlers) => {
    // Loaded on the first watch: a gateway on another store never pays for it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const http2 = require('node:http2') as typeof import('node:http2');
    const url = new URL(
      /^[a-z][a-z0-9+.-]*:\/\//i.test(options.url) ? options.url : `http://${options.url}`,
    );
    const secure = options.tls !== undefined || url.protocol === 'https:';
    const session = http2.connect(
      `${secure ? 'https' : 'http'}://${url.host}`,
      options.tls
        ? {
            ca: options.tls.rootCertificate,
            cert: options.tls.certChain,
            key: options.tls.privateKey,
          }
        : {},
    );
    let done = false;
    let pinger: NodeJS.Timeout | undefined;
    const finish = (report: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(createdBy);
      clearInterval(pinger);
      session.destroy();
      report();
    };
    const fail = (error: Error) => finish(() => handlers.failed(error));
    const createdBy = setTimeout(
      () =>
        fail(
          new Error(`etcd at ${url.host} did not create the watch within ${options.timeout} ms`),
        ),
      options.timeout,
    );
    createdBy.unref();
    session.on('error', fail);
    session.on('close', () => fail(new Error(`the connection to etcd at ${url.host} closed`)));
    session.on('connect', () => {
      pinger = setInterval(() => {
        const late = setTimeout(
          () =>
            fail(
              new Error(
                `etcd at ${url.host} did not answer a ping within ${options.keepaliveTimeout} ms`,
              ),
            ),
          options.keepaliveTimeout,
        );
        late.unref();
        if (!session.ping((error) => (clearTimeout(late), error && fail(error))))
          clearTimeout(late);
      }, options.keepaliveTime);
      pinger.unref();
    });

    const onMessage = (buf: Buffer, start: number, end: number) => {
      if (done) return;
      const res = decodeWatchResponse(buf, start, end);
      if (res.canceled) {
        const reason =
          res.compactRevision > 0
            ? `compacted: the oldest revision left is ${res.compactRevision}`
            : res.cancelReason || 'no reason given';
        finish(() => handlers.canceled(reason));
      } else if (res.created) {
        clearTimeout(createdBy);
        handlers.created(res);
      } else handlers.response(res);
    };

    const open = async () => {
      const token = options.auth
        ? decodeAuthenticateResponse(
            await unary(
              session,
              AUTHENTICATE,
              encodeAuthenticate(options.auth.username, options.auth.password),
            ),
          )
        : undefined;
      if (done) return;
      const stream = session.request(grpcRequest(WATCH, token));
      const deframe = grpcDeframer(onMessage);
      stream.on('response', (headers) => {
        const failure =
          grpcFailure(headers) ??
          (headers[':status'] === 200
            ? undefined
            : new Error(`etcd answered HTTP ${headers[':status']}`));
        if (failure) fail(failure);
      });
      stream.on('trailers', (trailers) =>
        fail(grpcFailure(trailers) ?? new Error('etcd ended the watch stream')),
      );
      stream.on('data', (chunk: Buffer) => {
        try {
          deframe(chunk);
        } catch (error) {
          fail(error as Error);
        }
      });
      stream.on('error', fail);
      stream.on('close', () => fail(new Error('the watch stream closed')));
      stream.write(grpcFrame(encodeWatchCreate(key, rangeEnd, fromRevision)));
    };
    open().catch(fail);
    return { close: () => finish(() => undefined) };
  };
}
