import type {
  ClientHttp2Session,
  ClientHttp2Stream,
  IncomingHttpHeaders,
  IncomingHttpStatusHeader,
} from 'node:http2';
import { MAX_TIMER_MS } from '../model/checks';
import {
  decodeAuthenticateResponse,
  encodeAuthenticate,
  grpcDeframer,
  grpcFrame,
  MessageTooLargeError,
} from './etcd-wire';

/** TLS and credentials for etcd, as the EtcdStore's options give them. */
export interface EtcdConnectOptions {
  tls?: { rootCertificate: Buffer; privateKey?: Buffer; certChain?: Buffer };
  auth?: { username: string; password: string };
  /** The largest message accepted, in bytes (see `MAX_MESSAGE_BYTES`, its default). */
  maxMessageBytes?: number;
}

const STATUS_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];
/** gRPC's UNAVAILABLE: the call may not have reached etcd (retried by the store). */
const UNAVAILABLE = 14;
const DEADLINE_EXCEEDED = 4;
const RESOURCE_EXHAUSTED = 8;
/** HTTP/2's RST_STREAM code for a stream the client no longer wants. */
const NGHTTP2_CANCEL = 8;
/** HTTP/2's error code of a graceful GOAWAY. */
const NGHTTP2_NO_ERROR = 0;
const AUTHENTICATE = '/etcdserverpb.Auth/Authenticate';

/**
 * A failed gRPC call: its status code, worded as grpc-js words it (`14 UNAVAILABLE: ...`), which is
 * what `isUnavailable` reads.
 */
export class EtcdCallError extends Error {
  constructor(
    readonly code: number,
    details: string,
  ) {
    super(`${code} ${STATUS_NAMES[code] ?? 'UNKNOWN'}: ${details}`);
  }
}

/** An HTTP/2 connection to one etcd URL (`http://`, `https://` or a bare `host:port`). */
export function connectEtcd(target: string, options: EtcdConnectOptions): ClientHttp2Session {
  // Loaded on first use: a gateway on another store never pays for it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const http2 = require('node:http2') as typeof import('node:http2');
  const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(target) ? target : `http://${target}`);
  const { tls } = options;
  const secure = tls !== undefined || url.protocol === 'https:';
  return http2.connect(
    `${secure ? 'https' : 'http'}://${url.host}`,
    tls ? { ca: tls.rootCertificate, cert: tls.certChain, key: tls.privateKey } : {},
  );
}

/** The headers of a gRPC call, with etcd's auth token when there is one. */
export function grpcRequest(path: string, token?: string): Record<string, string> {
  return {
    ':method': 'POST',
    ':path': path,
    'content-type': 'application/grpc',
    te: 'trailers',
    ...(token === undefined ? {} : { token }),
  };
}

/** The failure a gRPC status names, or undefined for OK (or no status in these headers). */
export function grpcFailure(
  headers: IncomingHttpHeaders & IncomingHttpStatusHeader,
): EtcdCallError | undefined {
  const status = headers['grpc-status'];
  if (status === undefined || status === '0') return undefined;
  const message = percentDecoded(String(headers['grpc-message'] ?? ''));
  return new EtcdCallError(Number(status), message || 'etcd refused the call');
}

/**
 * An answer that is not gRPC (an HTTP error, a web page): the peer is not etcd, or not only etcd
 * (a proxy); another member may answer.
 */
function notGrpc(
  headers: IncomingHttpHeaders & IncomingHttpStatusHeader,
): EtcdCallError | undefined {
  if (headers[':status'] !== 200) {
    return new EtcdCallError(UNAVAILABLE, `etcd answered HTTP ${headers[':status']}`);
  }
  const type = String(headers['content-type'] ?? '');
  if (!/^application\/grpc(\+|;|$)/.test(type)) {
    return new EtcdCallError(UNAVAILABLE, `the answer is ${type || 'untyped'}, not gRPC`);
  }
  return undefined;
}

/** gRPC's percent-encoded status message; a malformed one (a peer that is not etcd) as sent. */
function percentDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** A unary call on `session`: one request message, one answer, or an EtcdCallError. */
export function unary(
  session: ClientHttp2Session,
  path: string,
  message: Buffer,
  deadline: number,
  token?: string,
  maxMessageBytes?: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let stream: ClientHttp2Stream;
    try {
      stream = session.request(grpcRequest(path, token));
    } catch (error) {
      return reject(new EtcdCallError(UNAVAILABLE, (error as Error).message));
    }
    let answer: Buffer | undefined;
    let failure: EtcdCallError | undefined;
    const timer = setTimeout(
      () => {
        failure ??= new EtcdCallError(DEADLINE_EXCEEDED, `no answer from etcd to ${path} in time`);
        stream.close();
      },
      Math.min(Math.max(0, deadline - Date.now()), MAX_TIMER_MS),
    );
    const deframe = grpcDeframer((buf, start, end) => {
      answer ??= Buffer.from(buf.subarray(start, end));
    }, maxMessageBytes);
    stream.on('response', (headers) => {
      failure ??= grpcFailure(headers) ?? notGrpc(headers);
    });
    stream.on('trailers', (trailers) => (failure ??= grpcFailure(trailers)));
    stream.on('data', (chunk: Buffer) => {
      try {
        deframe(chunk);
      } catch (error) {
        // Over the bound: etcd may hold that much. Malformed: the peer is not etcd (a mistyped
        // address, a proxy), and another member may answer.
        const code = error instanceof MessageTooLargeError ? RESOURCE_EXHAUSTED : UNAVAILABLE;
        failure ??= new EtcdCallError(code, (error as Error).message);
        // Nothing more of it is read (a length prefix over the bound is not buffered).
        stream.close(NGHTTP2_CANCEL);
      }
    });
    stream.on('error', (error) => (failure ??= new EtcdCallError(UNAVAILABLE, error.message)));
    stream.on('close', () => {
      clearTimeout(timer);
      if (failure) reject(failure);
      else if (answer) resolve(answer);
      else reject(new EtcdCallError(UNAVAILABLE, `the call to ${path} ended without an answer`));
    });
    stream.end(grpcFrame(message));
  });
}

/** etcd's auth token for `session` (Auth/Authenticate), or undefined without `auth`. */
export async function authenticate(
  session: ClientHttp2Session,
  options: EtcdConnectOptions,
  deadline: number,
): Promise<string | undefined> {
  if (!options.auth) return undefined;
  const { username, password } = options.auth;
  const answer = await unary(
    session,
    AUTHENTICATE,
    encodeAuthenticate(username, password),
    deadline,
    undefined,
    options.maxMessageBytes,
  );
  return decodeAuthenticateResponse(answer);
}

/**
 * The EtcdStore's unary calls (reads, compaction) over one HTTP/2 connection at a time, without
 * a gRPC library: a connection that fails or lets a call pass its deadline is dropped, and the
 * next call connects to the next host; one that goes away gracefully keeps the calls it has
 * until they end. Retrying is the caller's (`isUnavailable`). The
 * connection holds the process only while a call is in flight, as grpc-js's does.
 *
 * @example
 * ```ts
 * const calls = new EtcdCalls(['http://127.0.0.1:2379'], {});
 * const answer = await calls.call('/etcdserverpb.KV/Range', encodeRange({ key }), Date.now() + 5000);
 * ```
 */
export class EtcdCalls {
  /** The connection calls go to, while it lasts. */
  private connection: Connection | undefined;
  private next = 0;
  /** A private field, not a property: it may hold the password, which no dump may show. */
  readonly #options: EtcdConnectOptions;

  constructor(
    private readonly hosts: readonly string[],
    options: EtcdConnectOptions,
  ) {
    this.#options = options;
  }

  async call(path: string, message: Buffer, deadline: number): Promise<Buffer> {
    const connection = this.connect(deadline);
    const { session } = connection;
    // Counted on the call's own connection: after a reconnect, a call still ending on the old one
    // must neither leave the new one holding the process nor let it go while its calls run.
    if (connection.inFlight++ === 0) session.ref();
    try {
      const token = await connection.token;
      return await unary(session, path, message, deadline, token, this.#options.maxMessageBytes);
    } catch (error) {
      const code = (error as EtcdCallError).code;
      // A token etcd no longer knows (expired, or etcd restarted), or a JWT signed before a
      // change of users or roles: ask for one on the next call (as etcd's Go client does).
      if (code === 16 || /invalid auth token|auth store is old/.test(String(error))) {
        this.drop(connection);
        throw new EtcdCallError(UNAVAILABLE, (error as Error).message);
      }
      if (code === UNAVAILABLE || code === DEADLINE_EXCEEDED) this.drop(connection);
      throw error;
    } finally {
      if (--connection.inFlight === 0 && !session.destroyed) session.unref();
    }
  }

  close(): void {
    if (this.connection) this.drop(this.connection);
  }

  private connect(deadline: number): Connection {
    const current = this.connection;
    if (current && !current.session.destroyed && !current.session.closed) return current;
    const session = connectEtcd(this.hosts[this.next++ % this.hosts.length], this.#options);
    const connection: Connection = {
      session,
      token: authenticate(session, this.#options, deadline),
      inFlight: 0,
    };
    session.on('error', () => this.drop(connection));
    session.on('goaway', (code: number) => {
      // Graceful (NO_ERROR: etcd stopping, a proxy draining): the peer still answers the calls it
      // has, up to the last stream it named (node:http2 refuses the others: retried), and a write
      // made twice could fail as done already. New calls go to a new connection meanwhile.
      if (code === NGHTTP2_NO_ERROR) this.retire(connection);
      else this.drop(connection);
    });
    session.on('close', () => this.drop(connection));
    session.unref();
    connection.token.catch(() => this.drop(connection));
    this.connection = connection;
    return connection;
  }

  /** Closes `connection`; the next call makes a new one (with a new token). */
  private drop(connection: Connection): void {
    this.retire(connection);
    if (!connection.session.destroyed) connection.session.destroy();
  }

  /** No new call goes to `connection`; those in flight end there (each within its deadline). */
  private retire(connection: Connection): void {
    if (this.connection === connection) this.connection = undefined;
  }
}

/** One HTTP/2 connection of {@link EtcdCalls}, its auth token, and its calls in flight. */
interface Connection {
  readonly session: ClientHttp2Session;
  readonly token: Promise<string | undefined>;
  inFlight: number;
}
