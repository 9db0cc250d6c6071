import { createServer as createHttp2Server, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo, Server } from 'node:net';
import { join } from 'node:path';
import * as protobuf from 'protobufjs';
import { EtcdStore } from '../../lib';
import { grpcFrame } from '../../lib/store/etcd-wire';
import type { WatchEvent } from '../../lib/store/store';

// Peers that are not a well-behaved etcd, as real node:http2 servers on loopback, for the tests of
// the EtcdStore's own HTTP/2 client (etcd-calls.ts, etcd-watch-stream.ts). `useFakeEtcd()` in a
// test file registers the hooks: what a test starts is closed after it, and any uncaught
// exception or unhandled rejection while it ran fails it (a hostile peer must never crash the host).

const root = new protobuf.Root().loadSync(
  join(__dirname, '../../node_modules/etcd3/proto/rpc.proto'),
  { keepCase: true },
);
const WatchResponse = root.lookupType('etcdserverpb.WatchResponse');
const RangeResponse = root.lookupType('etcdserverpb.RangeResponse');

/** One WatchResponse (etcd's field names, protobufjs's encoder), framed for gRPC. */
export const watchResponse = (value: object) =>
  grpcFrame(Buffer.from(WatchResponse.encode(WatchResponse.fromObject(value)).finish()));
/** One RangeResponse, framed for gRPC. */
export const rangeResponse = (value: object) =>
  grpcFrame(Buffer.from(RangeResponse.encode(RangeResponse.fromObject(value)).finish()));
/** A response header at revision 10 of cluster 1. */
export const header = { cluster_id: '1', revision: '10' };
/** A put event, as etcd sends it. */
export const put = (key: string, value: string, rev: number) => ({
  type: 'Put',
  kv: { key: Buffer.from(key), value: Buffer.from(value), mod_revision: String(rev) },
});
/** The headers of a gRPC answer. */
export const grpcHeaders = { ':status': 200, 'content-type': 'application/grpc' };

/** A unary answer: `message` then grpc-status 0 in the trailers, as etcd answers. */
export function answerUnary(stream: ServerHttp2Stream, message: Buffer): void {
  stream.respond(grpcHeaders, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  stream.end(message);
}

/** The helpers of a test file of hostile peers; call once, at the top of the file. */
export function useFakeEtcd() {
  const cleanups: (() => unknown)[] = [];
  const crashes: unknown[] = [];
  const onCrash = (error: unknown) => crashes.push(error);
  beforeEach(() => {
    crashes.length = 0;
    process.on('uncaughtException', onCrash);
    process.on('unhandledRejection', onCrash);
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
    expect(crashes).toEqual([]);
  });

  async function listen(server: Server | ReturnType<typeof createHttp2Server>): Promise<string> {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /**
   * A plaintext HTTP/2 server answering every stream with `answer`; `connection` counts the
   * sessions from 1 (a peer may act differently once the client has reconnected).
   */
  async function fakeEtcd(
    answer: (stream: ServerHttp2Stream, path: string, connection: number) => void,
    serverOptions: Parameters<typeof createHttp2Server>[0] = {},
  ): Promise<string> {
    const server = createHttp2Server(serverOptions);
    const sessions = new Set<{ destroy(): void }>();
    const numbers = new WeakMap<object, number>();
    server.on('session', (session) => {
      sessions.add(session);
      numbers.set(session, sessions.size);
      session.on('error', () => undefined);
    });
    server.on('stream', (stream, headers) => {
      stream.on('error', () => undefined);
      answer(stream, String(headers[':path']), numbers.get(stream.session!) ?? 0);
    });
    cleanups.push(() => sessions.forEach((s) => s.destroy()));
    return listen(server);
  }

  function newStore(url: string, extra: Partial<ConstructorParameters<typeof EtcdStore>[0]> = {}) {
    const store = new EtcdStore({ hosts: url, requestTimeout: 1500, ...extra });
    cleanups.push(() => store.close());
    return store;
  }

  /** A watch of `/w/` from `from`, its events, and a wait for a condition on them. */
  function watchEvents(
    store: EtcdStore,
    from = 1,
    listener: (event: WatchEvent) => void = () => undefined,
  ) {
    const events: WatchEvent[] = [];
    const watch = store.watch('/w/', from, (event) => {
      events.push(event);
      listener(event);
    });
    cleanups.push(() => watch.close());
    return {
      events,
      async until(done: () => boolean, ms = 5000) {
        const deadline = Date.now() + ms;
        while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        if (!done()) throw new Error(`not seen in ${ms} ms: ${JSON.stringify(events)}`);
      },
    };
  }

  return { cleanups, crashes, listen, fakeEtcd, newStore, watchEvents };
}
