import { spawn } from 'node:child_process';
import type { ServerHttp2Stream } from 'node:http2';
import { join } from 'node:path';
import { createGateway } from '../../lib';
import { grpcFrame } from '../../lib/store/etcd-wire';
import {
  answerUnary,
  grpcHeaders,
  header,
  put,
  rangeResponse,
  useFakeEtcd,
  watchResponse,
} from '../helpers/fake-etcd';

// The node:http2 etcd client against peers that stall, loop or throw its owner off: a message
// begun and never finished, a listener that throws from a timer, and the HTTP/2 tricks a broken or
// hostile endpoint can play (huge headers, RST_STREAM and GOAWAY on every stream, trailers-only
// answers). Each ends in a typed error in bounded time; nothing crashes or holds the host.

const { fakeEtcd, newStore, watchEvents } = useFakeEtcd();

/** Answers Range with no key at revision 10 (the watch's silence check: all is delivered). */
function quietRange(stream: ServerHttp2Stream, path: string): boolean {
  if (!path.endsWith('/Range')) return false;
  answerUnary(stream, rangeResponse({ header }));
  return true;
}

/** A peer that creates the watch and answers the silence check quietly, then `then`s. */
function createsWatch(then: (stream: ServerHttp2Stream) => void = () => undefined) {
  return (stream: ServerHttp2Stream, path: string) => {
    if (quietRange(stream, path)) return;
    stream.respond(grpcHeaders);
    stream.write(watchResponse({ header, created: true }));
    then(stream);
  };
}

test('a listener that throws from the silence check reaches the watch as an error, never an unhandled rejection', async () => {
  const url = await fakeEtcd(createsWatch());
  const store = newStore(url, { watchCheckInterval: 100 });
  let calls = 0;
  const w = watchEvents(store, 11, (event) => {
    calls++;
    if (event.type === 'changes') throw new Error('the listener failed');
  });
  await w.until(() => w.events.some((e) => e.type === 'error'));
  await new Promise((r) => setTimeout(r, 300));
  // The heartbeat it threw on, then the error that ended the watch: nothing after.
  expect(w.events).toEqual([
    { type: 'changes', revision: 10, changes: [] },
    {
      type: 'error',
      error: expect.objectContaining({
        code: 'STORE_UNAVAILABLE',
        message: expect.stringMatching(/watch listener threw: the listener failed/),
      }),
    },
  ]);
  expect(calls).toBe(2);
});

test('a listener that throws on events and on the error that follows: the host does not crash', async () => {
  const url = await fakeEtcd(
    createsWatch((stream) => {
      stream.write(watchResponse({ header, events: [put('/w/a', '1', 11)] }));
    }),
  );
  const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  try {
    const w = watchEvents(newStore(url, { watchCheckInterval: 100 }), 11, () => {
      throw new Error('always');
    });
    await w.until(() => w.events.some((e) => e.type === 'error'));
    await new Promise((r) => setTimeout(r, 300));
    expect(w.events.map((e) => e.type)).toEqual(['changes', 'error']);
    // What the listener could not be told is not dropped silently.
    expect(warn.mock.calls).toEqual([
      [expect.objectContaining({ message: expect.stringMatching(/watch listener threw: always/) })],
    ]);
  } finally {
    warn.mockRestore();
  }
});

test('a peer that never answers the silence check gets one check at a time, not one per interval', async () => {
  let ranges = 0;
  const url = await fakeEtcd((stream, path) => {
    if (path.endsWith('/Range')) return void ranges++; // never answered
    stream.respond(grpcHeaders);
    stream.write(watchResponse({ header, created: true }));
  });
  const w = watchEvents(newStore(url, { requestTimeout: 3000, watchCheckInterval: 50 }), 11);
  await new Promise((r) => setTimeout(r, 1000));
  expect(w.events).toEqual([]);
  expect(ranges).toBe(1);
});

test('a peer that begins a message and never finishes it, while answering pings: the watch ends in time, typed', async () => {
  const url = await fakeEtcd(
    createsWatch((stream) => {
      // A head promising 1000 bytes, and 10 of them. HTTP/2 pings are answered by node:http2.
      const head = Buffer.from([0, 0, 0, 0x03, 0xe8]);
      stream.write(Buffer.concat([head, Buffer.alloc(10)]));
    }),
  );
  const store = newStore(url, {
    requestTimeout: 1000,
    // The silence check sees nothing missing: only the message's own deadline can end it.
    watchCheckInterval: 200,
    grpcOptions: { 'grpc.keepalive_time_ms': 100, 'grpc.keepalive_timeout_ms': 1000 },
  });
  const started = Date.now();
  const w = watchEvents(store, 11);
  await w.until(() => w.events.some((e) => e.type !== 'changes'), 5000);
  expect(Date.now() - started).toBeLessThan(3000);
  expect(w.events.filter((e) => e.type !== 'changes')).toEqual([
    {
      type: 'error',
      error: expect.objectContaining({
        code: 'STORE_UNAVAILABLE',
        message: expect.stringMatching(/a message of 1000 bytes began .* 10 of them arrived/),
      }),
    },
  ]);
});

test('a message that trickles in a byte at a time is bounded the same way', async () => {
  const url = await fakeEtcd(
    createsWatch((stream) => {
      stream.write(Buffer.from([0, 0, 0, 0x03, 0xe8]));
      const drip = setInterval(() => {
        if (stream.destroyed) clearInterval(drip);
        else stream.write(Buffer.alloc(1));
      }, 50);
      stream.on('close', () => clearInterval(drip));
    }),
  );
  const store = newStore(url, { requestTimeout: 1000, watchCheckInterval: 200 });
  const w = watchEvents(store, 11);
  await w.until(() => w.events.some((e) => e.type !== 'changes'), 5000);
  expect(w.events.filter((e) => e.type !== 'changes')).toEqual([
    { type: 'error', error: expect.objectContaining({ code: 'STORE_UNAVAILABLE' }) },
  ]);
});

test('a steady stream of whole messages, each split over chunks, is not taken for a stall', async () => {
  let sent = 0;
  const url = await fakeEtcd(
    createsWatch((stream) => {
      // Every chunk ends inside the next message: the buffer is never empty for 1.5 s.
      let rest = Buffer.alloc(0);
      const tick = setInterval(() => {
        if (stream.destroyed || sent >= 30) return clearInterval(tick);
        const next = watchResponse({
          header: { ...header, revision: String(11 + sent) },
          events: [put('/w/a', String(sent), 11 + sent)],
        });
        sent++;
        const bytes = Buffer.concat([rest, next]);
        stream.write(bytes.subarray(0, bytes.length - 3));
        rest = bytes.subarray(bytes.length - 3);
      }, 50);
      stream.on('close', () => clearInterval(tick));
    }),
  );
  const store = newStore(url, { requestTimeout: 300, watchCheckInterval: 60_000 });
  const w = watchEvents(store, 11);
  await w.until(() => sent >= 30, 10_000);
  await new Promise((r) => setTimeout(r, 100));
  expect(w.events.filter((e) => e.type !== 'changes')).toEqual([]);
  expect(w.events.length).toBeGreaterThanOrEqual(28);
});

test('a graceful GOAWAY after the watch was created ends the watch at once, though the peer keeps its stream open', async () => {
  const url = await fakeEtcd((stream, path) => {
    if (quietRange(stream, path)) return;
    stream.respond(grpcHeaders);
    stream.write(watchResponse({ header, created: true }), () =>
      // NO_ERROR, and this stream is within the last stream id: node:http2 only stops new
      // streams, and a peer that then sends nothing more leaves the watch open and deaf.
      stream.session?.goaway(0, stream.id),
    );
  });
  const store = newStore(url, { requestTimeout: 1000, watchCheckInterval: 200 });
  const w = watchEvents(store, 11);
  await w.until(() => w.events.some((e) => e.type !== 'changes'), 3000);
  expect(w.events.filter((e) => e.type !== 'changes')).toEqual([
    {
      type: 'error',
      error: expect.objectContaining({
        code: 'STORE_UNAVAILABLE',
        message: expect.stringMatching(/going away \(GOAWAY, HTTP\/2 error code 0\)/),
      }),
    },
  ]);
});

test('reads hold the host process only while in flight, on each connection', async () => {
  // Connection 1 goes away gracefully under the first read and answers it after 900 ms; the
  // second read, made meanwhile, goes to connection 2 and is answered after 300 ms. Connection 2
  // is idle while connection 1 still has a call: neither may hold the host once its calls end.
  const url = await fakeEtcd((stream, _path, connection) => {
    if (connection === 1) stream.session?.goaway(0, stream.id);
    const delay = connection === 1 ? 900 : 300;
    setTimeout(() => answerUnary(stream, rangeResponse({ header })), delay);
  });
  // The child does nothing but read: nothing else holds it. Unref'd in flight, it would exit
  // before an answer; ref'd when idle, it would never exit.
  const script = `
    const { EtcdStore } = require('./dist/etcd');
    const store = new EtcdStore({ hosts: '${url}', requestTimeout: 5000 });
    const read = (n) => store.get('/k').then(
      () => console.log('answered ' + n + ' ' + Date.now()),
      (e) => console.log('failed ' + n + ' ' + e.message),
    );
    read(1);
    setTimeout(() => read(2), 100);
  `;
  const child = spawn(process.execPath, ['-e', script], { cwd: join(__dirname, '..', '..') });
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  child.stderr.on('data', (chunk) => (out += chunk));
  const exited = await new Promise<number>((resolve, reject) => {
    const killer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the child did not exit in 8 s: ${out}`));
    }, 8000);
    // 'close', not 'exit': its output may still be in the pipe at 'exit'.
    child.on('close', () => (clearTimeout(killer), resolve(Date.now())));
  });
  const lines = out.trim().split('\n');
  expect(lines.map((line) => line.split(' ').slice(0, 2).join(' '))).toEqual([
    'answered 2',
    'answered 1',
  ]);
  const last = Math.max(...lines.map((line) => Number(line.split(' ')[2])));
  // Exited once idle: at once, not at some timeout of its own.
  expect(exited - last).toBeLessThan(1000);
});

test('a peer that ends every watch as soon as it is created does not spin the host: rewatches back off', async () => {
  let watches = 0;
  const url = await fakeEtcd((stream, path) => {
    if (quietRange(stream, path)) return;
    watches++;
    stream.respond(grpcHeaders);
    // Created, then RST_STREAM; or a graceful GOAWAY: a flapping proxy, a member restarting.
    stream.write(watchResponse({ header, created: true }), () =>
      watches % 2 ? stream.close(8) : stream.session?.goaway(0, stream.id),
    );
  });
  // A gateway on it: its configuration cache relists and watches again on every watch error.
  const gateway = createGateway(newStore(url), { resyncInterval: 0 });
  let errors = 0;
  gateway.on('store.error', () => errors++);
  try {
    await new Promise((r) => setTimeout(r, 3000));
  } finally {
    await gateway.close();
  }
  // 25 ms doubling to 1 s between quick failures: about 8 watches in 3 s (hundreds without).
  expect(watches).toBeGreaterThanOrEqual(3);
  expect(watches).toBeLessThanOrEqual(12);
  expect(errors).toBeLessThanOrEqual(12);
});

test('a huge header list, a trailers-only OK with no message, RST_STREAM on every stream: typed errors, in time', async () => {
  const huge: Record<string, string | number> = { ...grpcHeaders };
  for (let i = 0; i < 2000; i++) huge[`x-h${i}`] = 'v'.repeat(100);
  for (const answer of [
    (stream: ServerHttp2Stream) => stream.respond(huge),
    (stream: ServerHttp2Stream) =>
      stream.respond({ ...grpcHeaders, 'grpc-status': '0' }, { endStream: true }),
    (stream: ServerHttp2Stream) => stream.close(8),
  ]) {
    let streams = 0;
    const url = await fakeEtcd((stream) => (streams++, answer(stream)));
    const store = newStore(url, { requestTimeout: 800 });
    const started = Date.now();
    await expect(store.get('/k')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(Date.now() - started).toBeLessThan(2000);
    // Retried with a backoff, not in a tight loop.
    expect(streams).toBeLessThanOrEqual(8);
    const w = watchEvents(store);
    await w.until(() => w.events.length > 0, 2000);
    expect(w.events).toEqual([
      { type: 'error', error: expect.objectContaining({ code: 'STORE_UNAVAILABLE' }) },
    ]);
  }
});

test('a call in flight when etcd goes away gracefully ends on its connection, not run twice', async () => {
  // etcd stopping gracefully (GOAWAY NO_ERROR naming the last stream it will answer) still
  // answers that stream; a compaction run again elsewhere would fail as already done.
  let compactions = 0;
  const url = await fakeEtcd((stream, _path, connection) => {
    if (++compactions > 1) {
      stream.respond(
        {
          ...grpcHeaders,
          'grpc-status': '11',
          'grpc-message': 'mvcc: required revision has been compacted',
        },
        { endStream: true },
      );
      return;
    }
    stream.session?.goaway(0, stream.id);
    setTimeout(() => answerUnary(stream, grpcFrame(Buffer.alloc(0))), 200);
    expect(connection).toBe(1);
  });
  const started = Date.now();
  await expect(newStore(url).compact(5)).resolves.toBeUndefined();
  expect(Date.now() - started).toBeLessThan(1500);
  expect(compactions).toBe(1);
});
