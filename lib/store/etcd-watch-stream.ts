import {
  authenticate,
  connectEtcd,
  grpcFailure,
  grpcRequest,
  type EtcdConnectOptions,
} from './etcd-calls';
import {
  decodeWatchResponse,
  encodeWatchCreate,
  grpcDeframer,
  grpcFrame,
  MAX_MESSAGE_BYTES,
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

/**
 * Where and how {@link http2WatchStream} connects (`tls` whatever the URL's scheme; with `auth`, a
 * token is asked for each stream).
 */
export interface WatchStreamOptions extends EtcdConnectOptions {
  /** One etcd client URL (`http://` or `https://`; a bare `host:port` is plain). */
  url: string;
  /**
   * How long etcd has to create the watch, and the longest one message may take to arrive once
   * begun (with whole messages arriving meanwhile, each starts the time again), in ms.
   */
  timeout: number;
  /** HTTP/2 pings: their interval and how long an answer may take, in ms. */
  keepaliveTime: number;
  keepaliveTimeout: number;
}

const WATCH = '/etcdserverpb.Watch/Watch';

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
    const session = connectEtcd(options.url, options);
    const where = options.url;
    const maxMessageBytes = options.maxMessageBytes ?? MAX_MESSAGE_BYTES;
    let done = false;
    let pinger: NodeJS.Timeout | undefined;
    /** Armed while a message is unfinished (see `progress`). */
    let stalled: NodeJS.Timeout | undefined;
    const finish = (report: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(createdBy);
      clearTimeout(stalled);
      clearInterval(pinger);
      session.destroy();
      report();
    };
    const fail = (error: Error) => finish(() => handlers.failed(error));
    const createdBy = setTimeout(
      () =>
        fail(new Error(`etcd at ${where} did not create the watch within ${options.timeout} ms`)),
      options.timeout,
    );
    createdBy.unref();
    session.on('error', fail);
    session.on('close', () => fail(new Error(`the connection to etcd at ${where} closed`)));
    // A graceful GOAWAY (NO_ERROR) only stops new streams: the watch's own may stay open and
    // silent for as long as the peer likes. A member going away is a reason to watch elsewhere.
    session.on('goaway', (code: number) =>
      fail(new Error(`etcd at ${where} is going away (GOAWAY, HTTP/2 error code ${code})`)),
    );
    session.on('connect', () => {
      // 'connect' comes a tick after the socket's: a watch closed in between has destroyed the
      // session, and pinging a destroyed one throws out of the timer (an uncaught exception).
      if (done) return;
      pinger = setInterval(() => {
        if (session.destroyed) return; // its 'close' ends the watch
        const late = setTimeout(
          () =>
            fail(
              new Error(
                `etcd at ${where} did not answer a ping within ${options.keepaliveTimeout} ms`,
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

    /** The watch etcd created on this stream (its id), once it has. */
    let watchId: number | undefined;
    /** The fragments of a batch so far, and their events' bytes (bounded as one message is). */
    let pending: WatchResponseMessage | undefined;
    let pendingBytes = 0;
    /** Whole messages read so far. */
    let messages = 0;
    const onMessage = (buf: Buffer, start: number, end: number) => {
      if (done) return;
      messages++;
      const res = decodeWatchResponse(buf, start, end);
      if (res.created && watchId === undefined) {
        watchId = res.watchId;
        clearTimeout(createdBy);
        if (res.canceled) return deliver(res);
        return handlers.created(res);
      }
      // One watch per stream: anything for another one, or before it was created, is not etcd.
      if (res.watchId !== watchId) {
        throw new RangeError(
          `etcd sent a watch response for watch ${res.watchId}${watchId === undefined ? ' before creating the watch' : `, not ${watchId}`}`,
        );
      }
      if (pending || res.fragment) {
        pendingBytes += end - start;
        if (pendingBytes > maxMessageBytes) {
          throw new RangeError(
            `a fragmented watch batch of over ${maxMessageBytes} bytes (grpcOptions['grpc.max_receive_message_length'])`,
          );
        }
        if (pending) for (const change of res.changes) pending.changes.push(change);
        else pending = res;
        if (res.fragment) return;
        const whole = pending;
        pending = undefined;
        pendingBytes = 0;
        return deliver({ ...res, changes: whole.changes });
      }
      deliver(res);
    };
    /** A whole response (fragments joined), created or not. */
    const deliver = (res: WatchResponseMessage) => {
      if (res.canceled) {
        const reason =
          res.compactRevision > 0
            ? `compacted: the oldest revision left is ${res.compactRevision}`
            : res.cancelReason || 'no reason given';
        finish(() => handlers.canceled(reason));
      } else if (!res.created) handlers.response(res);
    };

    const open = async () => {
      const token = await authenticate(session, options, Date.now() + options.timeout);
      if (done) return;
      // Require a leader: a member cut off from its cluster ends the watch ("no leader") instead
      // of keeping it open and silent (etcd's clientv3.WithRequireLeader).
      const stream = session.request({ ...grpcRequest(WATCH, token), hasleader: 'true' });
      const deframe = grpcDeframer(onMessage, maxMessageBytes);
      /**
       * A message begun must arrive within `timeout`: a peer that sends a head promising N bytes
       * and then stops (or trickles them), while still answering pings, would otherwise hold the
       * watch open and deaf until the store's silence check, which a peer answering reads with an
       * old revision never trips. A whole message arriving meanwhile starts the time again.
       */
      let partialSince = 0;
      const stall = () => {
        const need = deframe.needed() - 5;
        const have = deframe.buffered() - 5;
        const since = `${Date.now() - partialSince} ms ago`;
        fail(
          new Error(
            need > 0
              ? `etcd at ${where}: a message of ${need} bytes began ${since} and only ${have} of them arrived`
              : `etcd at ${where}: a message's head began ${since} and never arrived whole`,
          ),
        );
      };
      const progress = (completed: boolean) => {
        if (deframe.buffered() === 0) {
          clearTimeout(stalled);
          stalled = undefined;
          return;
        }
        if (stalled !== undefined && !completed) return;
        partialSince = Date.now();
        if (stalled) stalled.refresh();
        else {
          stalled = setTimeout(stall, options.timeout);
          stalled.unref();
        }
      };
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
          const before = messages;
          deframe(chunk);
          progress(messages !== before);
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
