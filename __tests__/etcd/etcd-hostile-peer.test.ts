import { createServer as createHttpServer } from 'node:http';
import { createServer, type Socket } from 'node:net';
import { EtcdStore } from '../../lib';
import { grpcFrame } from '../../lib/store/etcd-wire';
import { grpcHeaders, header, put, useFakeEtcd, watchResponse } from '../helpers/fake-etcd';

// The node:http2 etcd client (etcd-calls.ts, etcd-watch-stream.ts) against peers that are not a
// well-behaved etcd: a mistyped address, a proxy, a hostile server. Whatever they send, the
// store's callers get its typed errors in time, and the host never crashes or buffers for ever.

const { cleanups, listen, fakeEtcd, newStore, watchEvents } = useFakeEtcd();

test('a grpc-message that is not valid percent-encoding is an error for the caller, not an uncaught URIError', async () => {
  const url = await fakeEtcd((stream) => {
    stream.respond(grpcHeaders, { waitForTrailers: true });
    stream.on('wantTrailers', () =>
      stream.sendTrailers({ 'grpc-status': '7', 'grpc-message': 'permission %E0%A4%A denied' }),
    );
    stream.end();
  });
  const store = newStore(url);
  await expect(store.get('/k')).rejects.toMatchObject({
    code: 'STORE_UNAVAILABLE',
    message: expect.stringMatching(/7 PERMISSION_DENIED: permission %E0%A4%A denied/),
  });
  // The same in the headers of a trailers-only answer, and on a watch.
  const watchUrl = await fakeEtcd((stream) =>
    stream.respond(
      { ...grpcHeaders, 'grpc-status': '16', 'grpc-message': '%' },
      { endStream: true },
    ),
  );
  const w = watchEvents(newStore(watchUrl));
  await w.until(() => w.events.length > 0);
  expect(w.events).toEqual([
    { type: 'error', error: expect.objectContaining({ code: 'STORE_UNAVAILABLE' }) },
  ]);
});

test('a server that accepts the connection and never answers: a read fails in time, a watch ends', async () => {
  const sockets: Socket[] = [];
  const silent = createServer((socket) => sockets.push(socket));
  const url = await listen(silent);
  cleanups.push(() => sockets.forEach((s) => s.destroy()));
  const store = newStore(url, { requestTimeout: 1000 });
  const started = Date.now();
  await expect(store.get('/k')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
  expect(Date.now() - started).toBeLessThan(3000);
  const w = watchEvents(store);
  await w.until(() => w.events.length > 0, 4000);
  expect(w.events[0]).toMatchObject({ type: 'error', error: { code: 'STORE_UNAVAILABLE' } });
});

test('a length prefix of 2^31 ends the watch at once: nothing of it is buffered', async () => {
  let sent = 0;
  const url = await fakeEtcd((stream) => {
    stream.respond(grpcHeaders);
    stream.write(watchResponse({ header, created: true }));
    const head = Buffer.from([0, 0x80, 0, 0, 0]);
    const chunk = Buffer.alloc(256 * 1024);
    stream.write(head);
    // Keep sending for as long as the client reads.
    const more = () => {
      while (!stream.destroyed && sent < 512 * 1024 * 1024 && stream.write(chunk))
        sent += chunk.length;
      if (!stream.destroyed) stream.once('drain', more);
    };
    more();
  });
  const w = watchEvents(newStore(url));
  await w.until(() => w.events.length > 0, 10_000);
  expect(w.events[0]).toMatchObject({
    type: 'error',
    error: {
      code: 'STORE_UNAVAILABLE',
      message: expect.stringMatching(/over the limit of 67108864/),
    },
  });
  expect(sent).toBeLessThan(64 * 1024 * 1024);
});

test('grpc.max_receive_message_length bounds a read; -1 lifts the bound; anything else is refused', async () => {
  const url = await fakeEtcd((stream) => {
    stream.respond(grpcHeaders, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(grpcFrame(Buffer.alloc(2048)));
  });
  const small = newStore(url, { grpcOptions: { 'grpc.max_receive_message_length': 1024 } });
  await expect(small.get('/k')).rejects.toMatchObject({
    code: 'STORE_UNAVAILABLE',
    message: expect.stringMatching(/2048 bytes, over the limit of 1024/),
  });
  expect(() =>
    newStore(url, { grpcOptions: { 'grpc.max_receive_message_length': 'lots' } }),
  ).toThrow(/max_receive_message_length/);
});

test("a batch etcd sent in fragments reaches the listener as one batch; the fragments' total is bounded too", async () => {
  const url = await fakeEtcd((stream) => {
    stream.respond(grpcHeaders);
    stream.write(watchResponse({ header, created: true }));
    stream.write(watchResponse({ header, fragment: true, events: [put('/w/a', '1', 11)] }));
    stream.write(watchResponse({ header, fragment: true, events: [put('/w/b', '2', 11)] }));
    stream.write(watchResponse({ header, events: [put('/w/c', '3', 11)] }));
  });
  const w = watchEvents(newStore(url));
  await w.until(() => w.events.length > 0);
  await new Promise((r) => setTimeout(r, 100));
  expect(w.events).toEqual([
    {
      type: 'changes',
      revision: 11,
      changes: ['a', 'b', 'c'].map((k, i) => ({
        type: 'put',
        kv: { key: `/w/${k}`, value: String(i + 1), createRevision: 0, modRevision: 11 },
      })),
    },
  ]);

  const endless = await fakeEtcd((stream) => {
    stream.respond(grpcHeaders);
    stream.write(watchResponse({ header, created: true }));
    const fragment = watchResponse({
      header,
      fragment: true,
      events: [put('/w/a', 'x'.repeat(600), 11)],
    });
    for (let i = 0; i < 10; i++) stream.write(fragment);
  });
  const bounded = watchEvents(
    newStore(endless, { grpcOptions: { 'grpc.max_receive_message_length': 4096 } }),
  );
  await bounded.until(() => bounded.events.length > 0);
  expect(bounded.events).toEqual([
    {
      type: 'error',
      error: expect.objectContaining({ message: expect.stringMatching(/fragmented watch batch/) }),
    },
  ]);
});

test('events for a watch this stream did not create, or before it was created, end the watch', async () => {
  for (const messages of [
    [
      { header, created: true },
      { header, watch_id: '7', events: [put('/w/a', '1', 11)] },
    ],
    [{ header, events: [put('/w/a', '1', 11)] }],
  ]) {
    const url = await fakeEtcd((stream) => {
      stream.respond(grpcHeaders);
      for (const message of messages) stream.write(watchResponse(message));
    });
    const w = watchEvents(newStore(url));
    await w.until(() => w.events.length > 0);
    expect(w.events).toEqual([
      { type: 'error', error: expect.objectContaining({ code: 'STORE_UNAVAILABLE' }) },
    ]);
  }
});

test('an HTTP/1.1 server, a web server over HTTP/2, GOAWAY and RST_STREAM: typed errors, no crash', async () => {
  const http1 = createHttpServer((_req, res) => res.end('hello'));
  const urls = [
    await listen(http1),
    await fakeEtcd((stream) => {
      stream.respond({ ':status': 200, 'content-type': 'text/html' });
      stream.end('<html>not etcd</html>');
    }),
    await fakeEtcd((stream) => stream.session?.goaway(2)),
    await fakeEtcd((stream) => stream.close(2)),
  ];
  for (const url of urls) {
    const store = newStore(url, { requestTimeout: 500 });
    await expect(store.get('/k')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    const w = watchEvents(store);
    await w.until(() => w.events.length > 0);
    expect(w.events).toEqual([
      { type: 'error', error: expect.objectContaining({ code: 'STORE_UNAVAILABLE' }) },
    ]);
  }
});

test('a host that answers but is not etcd (a web server, garbage framing) is skipped for the next host', async () => {
  const good = await fakeEtcd((stream) => {
    stream.respond(grpcHeaders, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    // An empty RangeResponse: no key.
    stream.end(grpcFrame(Buffer.alloc(0)));
  });
  for (const wrong of [
    await fakeEtcd((stream) => {
      stream.respond({ ':status': 200, 'content-type': 'text/html' });
      stream.end('<html>not etcd</html>');
    }),
    await fakeEtcd((stream) => {
      stream.respond(grpcHeaders);
      stream.end(Buffer.from([1, 0, 0, 0, 1, 0]));
    }),
  ]) {
    const both = new EtcdStore({ hosts: [wrong, good], requestTimeout: 2000 });
    cleanups.push(() => both.close());
    await expect(both.get('/k')).resolves.toBeUndefined();
  }
});

test('a watch closed while its connection is being made never pings the closed connection (an uncaught ERR_HTTP2_INVALID_SESSION)', async () => {
  const url = await fakeEtcd((stream) => stream.respond(grpcHeaders));
  const store = newStore(url, {
    grpcOptions: { 'grpc.keepalive_time_ms': 20, 'grpc.keepalive_timeout_ms': 1000 },
  });
  for (let i = 0; i < 100; i++) {
    const watch = store.watch('/w/', 1, () => undefined);
    // Close at every moment of the connection's making: now, and a few turns of the loop later.
    for (let turns = 0; turns < i % 10; turns++) await new Promise((r) => setImmediate(r));
    watch.close();
  }
  await new Promise((r) => setTimeout(r, 300));
});
