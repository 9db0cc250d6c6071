import type { KeyValue, WatchChange } from './store';

/*
 * The few etcd v3 messages the EtcdStore's watch sends and reads, in protobuf wire format, by
 * hand: etcd's api/etcdserverpb/rpc.proto and api/mvccpb/kv.proto (3.4), the field numbers in the
 * comments. protobufjs through etcd3 costs ~3x the CPU per watched change and ~20 MiB of RSS for
 * the same decoding (BENCHMARKS.md, "The etcd watch client").
 */

/** One decoded WatchResponse, with its events already as the store contract's changes. */
export interface WatchResponseMessage {
  /** ResponseHeader.revision: the store's revision when etcd sent this. */
  revision: number;
  /** ResponseHeader.cluster_id, in decimal (as etcd3 gives it). */
  clusterId: string;
  created: boolean;
  canceled: boolean;
  /** The first revision still available, when the watch was canceled by a compaction (else 0). */
  compactRevision: number;
  cancelReason: string;
  /** The watch this response is for (one watch per stream here: the one `created` named). */
  watchId: number;
  /** More responses of the same batch follow (etcd splits a batch over its request size limit). */
  fragment: boolean;
  changes: WatchChange[];
}

function varint(value: number | bigint): number[] {
  const out: number[] = [];
  let v = BigInt(value);
  while (v > 0x7fn) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

/** A length-delimited field (wire type 2) with its tag byte. */
function bytesField(tag: number, bytes: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag, ...varint(bytes.length)]), bytes]);
}

/**
 * WatchRequest{create_request(1): WatchCreateRequest{key(1), range_end(2), start_revision(3),
 * fragment(8)}}: every key in [key, rangeEnd) from `startRevision` on. Fragmented: etcd splits a
 * batch larger than its `--max-request-bytes` plus 512 KiB (a prefix deleted at once, a backlog)
 * into messages of about that size; the receiver joins them (one batch, as etcd made it). No prev_kv, no progress_notify (etcd 3.4 sends progress to a watch still catching up,
 * announcing a revision whose events have not been sent yet: etcd#15220).
 */
export function encodeWatchCreate(key: Buffer, rangeEnd: Buffer, startRevision: number): Buffer {
  const create = Buffer.concat([
    bytesField(0x0a, key),
    bytesField(0x12, rangeEnd),
    Buffer.from([0x18, ...varint(startRevision), 0x40, 1]),
  ]);
  return bytesField(0x0a, create);
}

/** AuthenticateRequest{name(1), password(2)}. */
export function encodeAuthenticate(name: string, password: string): Buffer {
  return Buffer.concat([
    bytesField(0x0a, Buffer.from(name)),
    bytesField(0x12, Buffer.from(password)),
  ]);
}

/** The longest varint protobuf writes (64 bits in 7-bit groups). */
const MAX_VARINT_BYTES = 10;

/** The last 64-bit varint decoded (see `Reader.bigVarint`). */
const lastBig: { low: number; high: number; text: string | undefined } = {
  low: 0,
  high: 0,
  text: undefined,
};

/**
 * A protobuf reader over one message, `buf[pos, end)`: nothing is read past `end`, a field may not
 * claim more bytes than the message has left, and a varint is at most 10 bytes (an endless one
 * from a hostile peer would otherwise cost quadratic time as a BigInt). Varints come back as
 * numbers: revisions stay below 2^53.
 */
class Reader {
  constructor(
    readonly buf: Buffer,
    public pos: number,
    readonly end: number,
  ) {}

  private byte(): number {
    if (this.pos >= this.end) throw new RangeError('truncated varint');
    return this.buf[this.pos++];
  }

  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const byte = this.byte();
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) return result;
      scale *= 128;
    }
    throw new RangeError('malformed varint (over 10 bytes)');
  }

  /**
   * An unsigned 64-bit varint in decimal (cluster ids use every bit). Every response's header
   * carries the same cluster id: its 7-bit groups are summed into two exact numbers (the first 4
   * groups, then the rest: at most 42 bits) and the last decimal is reused while they repeat,
   * sparing each response ten BigInt operations.
   */
  bigVarint(): string {
    let low = 0;
    let high = 0;
    let scale = 1;
    const start = this.pos;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const byte = this.byte();
      if (i === 4) scale = 1;
      if (i < 4) low += (byte & 0x7f) * scale;
      else high += (byte & 0x7f) * scale;
      scale *= 128;
      if (byte < 0x80) {
        if (low !== lastBig.low || high !== lastBig.high || lastBig.text === undefined) {
          let result = 0n;
          for (let at = start; at < this.pos; at++) {
            result |= BigInt(this.buf[at] & 0x7f) << BigInt(7 * (at - start));
          }
          lastBig.text = BigInt.asUintN(64, result).toString();
          lastBig.low = low;
          lastBig.high = high;
        }
        return lastBig.text;
      }
    }
    throw new RangeError('malformed varint (over 10 bytes)');
  }

  /** The end of a length-delimited field whose length comes next, within the message. */
  length(): number {
    const n = this.varint();
    if (n > this.end - this.pos) throw new RangeError('a field runs past the end of its message');
    return this.pos + n;
  }

  text(): string {
    const end = this.length();
    const text = this.buf.toString('utf8', this.pos, end);
    this.pos = end;
    return text;
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 2) this.pos = this.length();
    else if (wireType === 1 || wireType === 5) {
      const size = wireType === 1 ? 8 : 4;
      if (size > this.end - this.pos) throw new RangeError('truncated fixed-size field');
      this.pos += size;
    } else throw new RangeError(`unsupported protobuf wire type ${wireType}`);
  }
}

/** A nested message must end where its length said, not inside its last field. */
function ended(r: Reader, end: number): void {
  if (r.pos !== end) throw new RangeError('a nested message runs past its length');
}

/** KeyValue{key(1), create_revision(2), mod_revision(3), version(4), value(5), lease(6)}. */
function readKeyValue(r: Reader, end: number): KeyValue {
  let key = '';
  let value = '';
  let createRevision = 0;
  let modRevision = 0;
  while (r.pos < end) {
    const t = r.varint();
    if (t === 0x0a) key = r.text();
    else if (t === 0x10) createRevision = r.varint();
    else if (t === 0x18) modRevision = r.varint();
    else if (t === 0x2a) value = r.text();
    else r.skip(t & 7);
  }
  ended(r, end);
  return { key, value, createRevision, modRevision };
}

/** Event{type(1): PUT 0 | DELETE 1, kv(2): KeyValue, prev_kv(3)}. */
function readEvent(r: Reader, end: number): WatchChange {
  let type = 0;
  let kv: KeyValue = { key: '', value: '', createRevision: 0, modRevision: 0 };
  while (r.pos < end) {
    const tag = r.varint();
    if (tag === 0x08) type = r.varint();
    else if (tag === 0x12) kv = readKeyValue(r, r.length());
    else r.skip(tag & 7);
  }
  ended(r, end);
  return type === 1
    ? { type: 'delete', key: kv.key, modRevision: kv.modRevision }
    : { type: 'put', kv };
}

/** ResponseHeader{cluster_id(1), member_id(2), revision(3), raft_term(4)}. */
function readHeader(r: Reader, into: { clusterId: string; revision: number }): void {
  const end = r.length();
  while (r.pos < end) {
    const t = r.varint();
    if (t === 0x08) into.clusterId = r.bigVarint();
    else if (t === 0x18) into.revision = r.varint();
    else r.skip(t & 7);
  }
  ended(r, end);
}

/**
 * WatchResponse{header(1): ResponseHeader{cluster_id(1), member_id(2), revision(3),
 * raft_term(4)}, watch_id(2), created(3), canceled(4), compact_revision(5), cancel_reason(6),
 * fragment(7), events(11)}, from `buf[start, end)`.
 */
export function decodeWatchResponse(
  buf: Buffer,
  start = 0,
  end = buf.length,
): WatchResponseMessage {
  const r = new Reader(buf, start, end);
  const res: WatchResponseMessage = {
    revision: 0,
    clusterId: '',
    created: false,
    canceled: false,
    compactRevision: 0,
    cancelReason: '',
    watchId: 0,
    fragment: false,
    changes: [],
  };
  while (r.pos < end) {
    const tag = r.varint();
    switch (tag) {
      case 0x0a:
        readHeader(r, res);
        break;
      case 0x10:
        res.watchId = r.varint();
        break;
      case 0x18:
        res.created = r.varint() !== 0;
        break;
      case 0x20:
        res.canceled = r.varint() !== 0;
        break;
      case 0x28:
        res.compactRevision = r.varint();
        break;
      case 0x32:
        res.cancelReason = r.text();
        break;
      case 0x38:
        res.fragment = r.varint() !== 0;
        break;
      case 0x5a:
        res.changes.push(readEvent(r, r.length()));
        break;
      default:
        r.skip(tag & 7);
    }
  }
  if (r.pos !== end) throw new RangeError('malformed WatchResponse');
  return res;
}

/** What {@link encodeRange} asks for (etcd's RangeRequest, the fields the EtcdStore uses). */
export interface RangeRequest {
  key: Buffer;
  rangeEnd?: Buffer;
  limit?: number;
  /** Read at this revision (0: the latest). */
  revision?: number;
  /** Newest first by mod_revision (the silence check's "latest change"). */
  newestFirst?: boolean;
  keysOnly?: boolean;
}

/**
 * RangeRequest{key(1), range_end(2), limit(3), revision(4), sort_order(5): DESCEND 2,
 * sort_target(6): MOD 3, serializable(7), keys_only(8)}: never serializable (linearizable reads).
 */
export function encodeRange(req: RangeRequest): Buffer {
  const parts = [bytesField(0x0a, req.key)];
  if (req.rangeEnd) parts.push(bytesField(0x12, req.rangeEnd));
  if (req.limit) parts.push(Buffer.from([0x18, ...varint(req.limit)]));
  if (req.revision) parts.push(Buffer.from([0x20, ...varint(req.revision)]));
  if (req.newestFirst) parts.push(Buffer.from([0x28, 2, 0x30, 3]));
  if (req.keysOnly) parts.push(Buffer.from([0x40, 1]));
  return Buffer.concat(parts);
}

/** One decoded RangeResponse. */
export interface RangeResponseMessage {
  revision: number;
  clusterId: string;
  kvs: KeyValue[];
  more: boolean;
}

/** RangeResponse{header(1), kvs(2): KeyValue, more(3), count(4)}. */
export function decodeRangeResponse(buf: Buffer): RangeResponseMessage {
  const r = new Reader(buf, 0, buf.length);
  const res: RangeResponseMessage = { revision: 0, clusterId: '', kvs: [], more: false };
  while (r.pos < buf.length) {
    const tag = r.varint();
    if (tag === 0x0a) readHeader(r, res);
    else if (tag === 0x12) res.kvs.push(readKeyValue(r, r.length()));
    else if (tag === 0x18) res.more = r.varint() !== 0;
    else r.skip(tag & 7);
  }
  if (r.pos !== buf.length) throw new RangeError('malformed RangeResponse');
  return res;
}

/** CompactionRequest{revision(1), physical(2)}. */
export function encodeCompaction(revision: number, physical: boolean): Buffer {
  return Buffer.from([0x08, ...varint(revision), ...(physical ? [0x10, 1] : [])]);
}

/** AuthenticateResponse{header(1), token(2)}: the token. */
export function decodeAuthenticateResponse(buf: Buffer): string {
  const r = new Reader(buf, 0, buf.length);
  let token = '';
  while (r.pos < buf.length) {
    const tag = r.varint();
    if (tag === 0x12) token = r.text();
    else r.skip(tag & 7);
  }
  return token;
}

/** One gRPC message as sent on an HTTP/2 stream: not compressed, its length, its bytes. */
export function grpcFrame(message: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

/**
 * The largest gRPC message the EtcdStore accepts by default, in bytes: 64 MiB. etcd's messages
 * stay far below it (a write is at most `--max-request-bytes`, 1.5 MiB by default, and watches ask
 * for batches in fragments of about that plus 512 KiB; joined, a batch is bounded the same); a listing page is its `limit` times the values'
 * size. What it bounds is a peer that is not etcd, or a broken one: a length prefix of 2^31 would
 * otherwise have the client buffer whatever it sends, for ever.
 */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/**
 * A gRPC message over the receiver's bound: unlike a malformed one, not the peer's fault alone
 * (etcd may hold that much), so not worth asking another member.
 *
 * @example
 * ```ts
 * if (error instanceof MessageTooLargeError) throw new EtcdCallError(8, error.message);
 * ```
 */
export class MessageTooLargeError extends RangeError {}

/**
 * A gRPC response body's reader (see {@link grpcDeframer}): fed its chunks in order, it passes
 * each whole message on.
 */
export interface GrpcDeframer {
  (chunk: Buffer): void;
  /** The bytes of an unfinished message held (its 5-byte head included), 0 between messages. */
  buffered(): number;
  /** The bytes the unfinished message needs in all (5 until its head has arrived). */
  needed(): number;
}

/**
 * Splits the chunks of a gRPC response body into messages, each passed as `buf[start, end)`
 * (valid only during the call). A compressed message is refused: none is asked for; so is one
 * whose length prefix is over `maxMessageBytes`, before its bytes are buffered. The chunks of a
 * large message are joined once, when it is whole (joining at every chunk would copy a 6 MB
 * listing hundreds of times).
 *
 * @example
 * ```ts
 * const deframe = grpcDeframer((buf, start, end) => handle(decodeWatchResponse(buf, start, end)));
 * stream.on('data', deframe);
 * ```
 */
export function grpcDeframer(
  onMessage: (buf: Buffer, start: number, end: number) => void,
  maxMessageBytes = MAX_MESSAGE_BYTES,
): GrpcDeframer {
  let parts: Buffer[] = [];
  let size = 0;
  /** The bytes the next message needs, once its head is known (5 until then). */
  let needed = 5;
  const deframe = (chunk: Buffer): void => {
    parts.push(chunk);
    size += chunk.length;
    if (size < needed) return;
    const buf = parts.length === 1 ? parts[0] : Buffer.concat(parts, size);
    let pos = 0;
    needed = 5;
    while (buf.length - pos >= 5) {
      if (buf[pos] !== 0) throw new RangeError('compressed gRPC message (none was asked for)');
      const n = buf.readUInt32BE(pos + 1);
      if (n > maxMessageBytes) {
        throw new MessageTooLargeError(
          `a gRPC message of ${n} bytes, over the limit of ${maxMessageBytes} (grpcOptions['grpc.max_receive_message_length'])`,
        );
      }
      if (buf.length - pos - 5 < n) {
        needed = 5 + n;
        break;
      }
      onMessage(buf, pos + 5, pos + 5 + n);
      pos += 5 + n;
    }
    parts = pos === buf.length ? [] : [buf.subarray(pos)];
    size = buf.length - pos;
  };
  return Object.assign(deframe, { buffered: () => size, needed: () => needed });
}
