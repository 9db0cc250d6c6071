import { join } from 'node:path';
import * as protobuf from 'protobufjs';
import {
  decodeAuthenticateResponse,
  decodeRangeResponse,
  decodeWatchResponse,
  encodeAuthenticate,
  encodeCompaction,
  encodeRange,
  encodeWatchCreate,
  grpcDeframer,
  grpcFrame,
} from '../../lib/store/etcd-wire';

// The reference: etcd's own .proto files (as etcd3 ships them) through protobufjs, the encoder
// etcd3 uses. The hand-written codec must read and write the same bytes.
const root = new protobuf.Root().loadSync(
  join(__dirname, '../../node_modules/etcd3/proto/rpc.proto'),
  {
    keepCase: true,
  },
);
const WatchResponse = root.lookupType('etcdserverpb.WatchResponse');
const WatchRequest = root.lookupType('etcdserverpb.WatchRequest');
const AuthenticateRequest = root.lookupType('etcdserverpb.AuthenticateRequest');
const AuthenticateResponse = root.lookupType('etcdserverpb.AuthenticateResponse');
const RangeRequest = root.lookupType('etcdserverpb.RangeRequest');
const RangeResponse = root.lookupType('etcdserverpb.RangeResponse');
const CompactionRequest = root.lookupType('etcdserverpb.CompactionRequest');

const encode = (type: protobuf.Type, value: object) =>
  Buffer.from(type.encode(type.fromObject(value)).finish());

const header = {
  cluster_id: '18446744073709551615', // every bit of a uint64
  member_id: '12345678901234567890',
  revision: String(Number.MAX_SAFE_INTEGER),
  raft_term: '7',
};

test('a WatchResponse with puts, a delete, prev_kv and fields the decoder skips', () => {
  const bytes = encode(WatchResponse, {
    header,
    watch_id: '3',
    fragment: false,
    events: [
      {
        type: 'Put',
        kv: {
          key: Buffer.from('/a/ключ-🔑'),
          value: Buffer.from('{"x":"é"}'),
          create_revision: '2',
          mod_revision: String(Number.MAX_SAFE_INTEGER),
          version: '9',
          lease: '694d71ddacfda227',
        },
        // A length-delimited field before the one read: skipping it must move past its length.
        prev_kv: { key: Buffer.from('/a/ключ-🔑'), value: Buffer.from('old'), mod_revision: '1' },
      },
      {
        type: 'Put',
        kv: { key: Buffer.from('/a/empty'), value: Buffer.alloc(0), mod_revision: '5' },
      },
      { type: 'Delete', kv: { key: Buffer.from('/a/gone'), mod_revision: '6' } },
    ],
  });
  expect(decodeWatchResponse(bytes)).toEqual({
    revision: Number.MAX_SAFE_INTEGER,
    clusterId: '18446744073709551615',
    created: false,
    canceled: false,
    compactRevision: 0,
    cancelReason: '',
    watchId: 3,
    fragment: false,
    changes: [
      {
        type: 'put',
        kv: {
          key: '/a/ключ-🔑',
          value: '{"x":"é"}',
          createRevision: 2,
          modRevision: Number.MAX_SAFE_INTEGER,
        },
      },
      { type: 'put', kv: { key: '/a/empty', value: '', createRevision: 0, modRevision: 5 } },
      { type: 'delete', key: '/a/gone', modRevision: 6 },
    ],
  });
});

test('created, canceled by a compaction, and a progress notification', () => {
  expect(decodeWatchResponse(encode(WatchResponse, { header, created: true }))).toMatchObject({
    created: true,
    canceled: false,
    changes: [],
  });
  const canceled = encode(WatchResponse, {
    header,
    canceled: true,
    compact_revision: '41',
    cancel_reason: 'mvcc: required revision has been compacted',
  });
  expect(decodeWatchResponse(canceled)).toMatchObject({
    canceled: true,
    compactRevision: 41,
    cancelReason: 'mvcc: required revision has been compacted',
  });
  expect(decodeWatchResponse(encode(WatchResponse, { header: { revision: '99' } }))).toMatchObject({
    revision: 99,
    clusterId: '',
    changes: [],
  });
});

test('a truncated or malformed message throws a RangeError, never loops or reads past its end', () => {
  const bytes = encode(WatchResponse, {
    header,
    events: [{ type: 'Put', kv: { key: Buffer.from('/k'), value: Buffer.from('v') } }],
  });
  // Cut at a field boundary, a message is a valid shorter one; cut inside the event, it is not.
  const eventAt = bytes.lastIndexOf(0x5a, bytes.length - 8);
  for (let cut = eventAt + 1; cut < bytes.length; cut++) {
    expect(() => decodeWatchResponse(bytes.subarray(0, cut))).toThrow(RangeError);
  }
  expect(() => decodeWatchResponse(Buffer.from([0x0b]))).toThrow(/wire type 3/);
  // Within a larger buffer, a message may not run past its own end.
  const framed = Buffer.concat([bytes, bytes]);
  expect(() => decodeWatchResponse(framed, 0, bytes.length - 1)).toThrow(RangeError);
});

test('the requests encode as protobufjs reads them', () => {
  const create = WatchRequest.toObject(
    WatchRequest.decode(encodeWatchCreate(Buffer.from('/p/'), Buffer.from('/p0'), 2 ** 40 + 3)),
    { longs: String },
  );
  expect(create).toEqual({
    create_request: {
      key: Buffer.from('/p/'),
      range_end: Buffer.from('/p0'),
      start_revision: String(2 ** 40 + 3),
      fragment: true,
    },
  });
  const auth = AuthenticateRequest.toObject(
    AuthenticateRequest.decode(encodeAuthenticate('gateway', 'pässword')),
  );
  expect(auth).toEqual({ name: 'gateway', password: 'pässword' });
  expect(
    decodeAuthenticateResponse(encode(AuthenticateResponse, { header, token: 'abc.123' })),
  ).toBe('abc.123');
});

test('gRPC messages split across chunks at every point come out whole, in order', () => {
  const messages = [Buffer.from('first'), Buffer.alloc(0), Buffer.alloc(70_000, 7)];
  const stream = Buffer.concat(messages.map(grpcFrame));
  // Frames: 'first' at [0, 10), the empty one at [10, 15), the large one at [15, 70_020).
  const held = new Map([
    [1, [1, 5]],
    [4, [4, 5]],
    [5, [5, 10]],
    [6, [6, 10]],
    [10, [0, 5]],
    [11, [1, 5]],
    [12, [2, 5]],
    [5000, [4985, 70_005]],
    [stream.length - 1, [70_004, 70_005]],
  ]);
  for (const cut of held.keys()) {
    const seen: Buffer[] = [];
    const deframe = grpcDeframer((buf, start, end) =>
      seen.push(Buffer.from(buf.subarray(start, end))),
    );
    deframe(stream.subarray(0, cut));
    // What is held of the unfinished message, and what it needs in all (5 until its head is
    // whole): the watch bounds the time a message may take with these.
    expect([deframe.buffered(), deframe.needed()]).toEqual(held.get(cut));
    deframe(stream.subarray(cut));
    expect([deframe.buffered(), deframe.needed()]).toEqual([0, 5]);
    expect(seen.map((b) => b.toString('hex'))).toEqual(messages.map((b) => b.toString('hex')));
  }
  // A large message in many small chunks is joined once: each chunk is not re-copied.
  const big = Buffer.alloc(4 * 2 ** 20, 1);
  const framed = grpcFrame(big);
  const concat = jest.spyOn(Buffer, 'concat');
  const whole: number[] = [];
  const deframe = grpcDeframer((_buf, start, end) => whole.push(end - start));
  for (let at = 0; at < framed.length; at += 16_384) deframe(framed.subarray(at, at + 16_384));
  expect(whole).toEqual([big.length]);
  expect(concat.mock.calls.length).toBeLessThanOrEqual(2);
  concat.mockRestore();
  const compressed = grpcFrame(Buffer.from('x'));
  compressed[0] = 1;
  expect(() => grpcDeframer(() => undefined)(compressed)).toThrow(/compressed/);
});

test('Range and Compaction: requests as protobufjs reads them, a response as it writes it', () => {
  const read = (type: protobuf.Type, bytes: Buffer) =>
    type.toObject(type.decode(bytes), { longs: String, enums: String });
  expect(read(RangeRequest, encodeRange({ key: Buffer.from('/k') }))).toEqual({
    key: Buffer.from('/k'),
  });
  expect(
    read(
      RangeRequest,
      encodeRange({
        key: Buffer.from('/p/'),
        rangeEnd: Buffer.from('/p0'),
        limit: 500,
        revision: 2 ** 40,
        newestFirst: true,
        keysOnly: true,
      }),
    ),
  ).toEqual({
    key: Buffer.from('/p/'),
    range_end: Buffer.from('/p0'),
    limit: '500',
    revision: String(2 ** 40),
    sort_order: 'Descend', // 2 (etcd's DESCEND; etcd3's copy of the .proto renames the enums)
    sort_target: 'Mod', // 3
    keys_only: true,
  });
  expect(read(CompactionRequest, encodeCompaction(41, true))).toEqual({
    revision: '41',
    physical: true,
  });
  const res = encode(RangeResponse, {
    header,
    kvs: [
      {
        key: Buffer.from('/p/é'),
        value: Buffer.from('1'),
        create_revision: '3',
        mod_revision: '4',
      },
      { key: Buffer.from('/p/z'), value: Buffer.alloc(0), create_revision: '5', mod_revision: '5' },
    ],
    more: true,
    count: '9',
  });
  expect(decodeRangeResponse(res)).toEqual({
    revision: Number.MAX_SAFE_INTEGER,
    clusterId: '18446744073709551615',
    kvs: [
      { key: '/p/é', value: '1', createRevision: 3, modRevision: 4 },
      { key: '/p/z', value: '', createRevision: 5, modRevision: 5 },
    ],
    more: true,
  });
  expect(() => decodeRangeResponse(res.subarray(0, res.length - 3))).toThrow(RangeError);
});

test('an endless varint is refused after 10 bytes (a BigInt of every byte cost quadratic time), a field may not claim more than its message has left', () => {
  // A cluster id of 200k continuation bytes in the header of a RangeResponse.
  const id = Buffer.concat([Buffer.from([0x08]), Buffer.alloc(200_000, 0xff), Buffer.from([1])]);
  const head = Buffer.from([
    0x0a,
    ...[(id.length & 0x7f) | 0x80, ((id.length >> 7) & 0x7f) | 0x80, id.length >> 14],
  ]);
  const started = Date.now();
  expect(() => decodeRangeResponse(Buffer.concat([head, id]))).toThrow(/over 10 bytes/);
  expect(() => decodeWatchResponse(Buffer.concat([head, id]))).toThrow(/over 10 bytes/);
  expect(Date.now() - started).toBeLessThan(100);
  // A key whose length runs past its KeyValue, into the bytes after it.
  const kv = Buffer.from([0x0a, 0x05, 0x61, 0x18, 0x03]);
  const event = Buffer.from([0x5a, kv.length + 2, 0x12, kv.length, ...kv]);
  expect(() =>
    decodeWatchResponse(Buffer.concat([event, Buffer.from([0x61, 0x61, 0x61])])),
  ).toThrow(/past/);
});

test('a WatchCreateRequest asks for fragments; a WatchResponse gives its watch id and fragment flag', () => {
  const request = WatchRequest.toObject(
    WatchRequest.decode(encodeWatchCreate(Buffer.from('/a'), Buffer.from('/b'), 5)),
  );
  expect(request.create_request.fragment).toBe(true);
  expect(
    decodeWatchResponse(encode(WatchResponse, { header, watch_id: '3', fragment: true })),
  ).toMatchObject({ watchId: 3, fragment: true });
});

test('cluster ids decode exactly when they change between responses (the last one is reused)', () => {
  // Ids that share their low 28 bits, or their high bits, or differ only in the last group.
  const ids = [
    '18446744073709551615',
    '1',
    '268435457', // 2^28 + 1: the same low groups as '1'
    '18446744073709551615',
    '9223372036854775808', // 2^63: only the last group set
    '9223372036854775809',
    '0',
    '9223372036854775809',
  ];
  for (const id of ids) {
    const bytes = encode(WatchResponse, { header: { ...header, cluster_id: id }, watch_id: '1' });
    expect(decodeWatchResponse(bytes).clusterId).toBe(id);
  }
});
