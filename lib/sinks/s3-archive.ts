import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { ArchiveUnavailableError, ValidationError } from '../errors';
import type { CloudEvent } from '../model/cloud-event';
import type { ArchivedEvent, ArchiveQuery, ArchiveSource } from '../plugins/archive-source';
import type { AcceptedContext } from '../plugins/intake-plugin';
import { positiveOption } from '../model/checks';
import { describeError } from '../model/describe-error';
import { requireOptionalPeer } from '../model/optional-peer';
import { writeRecord, type StoredRecord } from './archive-record';
import { LineCursor } from './line-cursor';
import { ArchiveSink, type ArchiveBatch, type ArchiveSinkOptions } from './archive-sink';
import { ByteChunks } from './byte-chunks';
import { mergeRuns, type Run } from './merge-runs';
import { hourPath, objectKey, parseObjectKey, partitionPrefix } from './s3-object-key';

/** What the archive uses of an `@aws-sdk/client-s3` S3Client (typed structurally: the SDK is optional). */
export interface S3Like {
  /** Sends a command. */
  send(command: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
  /** Releases the client's connections. */
  destroy?(): void;
}

/** Options of {@link S3Archive}. */
export interface S3ArchiveOptions extends ArchiveSinkOptions {
  /** The bucket objects are written to (and read from by replay). */
  bucket: string;
  /**
   * The start of every object key; objects are `<prefix><space>/<type>/YYYY/MM/DD/HH/<first>-<last>-<id>.ndjson.gz`.
   * @default 'events/'
   */
  prefix?: string;
  /**
   * An `@aws-sdk/client-s3` S3Client, or the configuration to make one with (`region`,
   * `endpoint`, `credentials`, `forcePathStyle`...). A client given is not destroyed by the
   * archive.
   * @default the SDK's defaults (region and credentials from the environment)
   */
  s3?: S3Like | Record<string, unknown>;
  /** Compress objects with gzip. @default 'gzip' */
  compression?: 'gzip' | 'none';
  /**
   * An object is written once its events reach this many bytes of JSON...
   * @default 8388608 (8 MiB)
   */
  maxObjectBytes?: number;
  /**
   * ...or once its first event is this old (ms); at most an hour, which is also how far back
   * before a replay's `from` the reader looks for objects.
   * @default 60000
   */
  maxObjectAge?: number;
  /** Objects written at once. @default 4 */
  concurrency?: number;
}

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);
const HOUR = 3_600_000;

/**
 * An archive of accepted events in S3 (`@aws-sdk/client-s3`, an optional peer dependency loaded
 * on first write or read): newline-delimited JSON objects, gzip-compressed, one series per space
 * and event type, keyed by time, written once big or old enough. Use it as an intake plugin to
 * archive, and as a replay's `source` to read back. Replayed events are not archived again.
 *
 * @example
 * ```ts
 * const archive = new S3Archive({ bucket: 'my-events', s3: { region: 'eu-west-1' } });
 * const gateway = createGateway(store, { plugins: [archive] });
 * // later, on any gateway:
 * await gateway.replay({ source: archive, from: '2026-11-27T10:00:00Z', to: '2026-11-27T11:00:00Z' });
 * ```
 */
export class S3Archive extends ArchiveSink<ByteChunks> implements ArchiveSource {
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly gzip: boolean;
  private readonly objectAge: number;
  private client: S3Like | undefined;
  private readonly ownsClient: boolean;
  private commands: Record<string, new (input: unknown) => unknown> | undefined;
  /** Each batch's key and body, made once: a retry writes the same object. */
  private readonly objects = new WeakMap<
    ArchiveBatch<ByteChunks>,
    Promise<{ key: string; body: Buffer }>
  >();

  constructor(private readonly options: S3ArchiveOptions) {
    const maxObjectAge = positiveOption(options?.maxObjectAge ?? 60_000, 'maxObjectAge', HOUR);
    super(options, {
      name: 's3-archive',
      concurrency: positiveOption(options?.concurrency ?? 4, 'concurrency', 64),
      maxBatchBytes: positiveOption(options?.maxObjectBytes ?? 8 * 1024 * 1024, 'maxObjectBytes'),
      maxBatchAge: maxObjectAge,
    });
    if (typeof options.bucket !== 'string' || options.bucket.length < 3) {
      throw new ValidationError('new S3Archive(options): "bucket" must be a bucket name.');
    }
    this.bucket = options.bucket;
    this.prefix = options.prefix ?? 'events/';
    if (typeof this.prefix !== 'string') {
      throw new ValidationError('new S3Archive(options): "prefix" must be a string.');
    }
    const compression = options.compression ?? 'gzip';
    if (compression !== 'gzip' && compression !== 'none') {
      throw new ValidationError(`new S3Archive(options): "compression" must be 'gzip' or 'none'.`);
    }
    this.gzip = compression === 'gzip';
    this.objectAge = maxObjectAge;
    const s3 = options.s3 as Partial<S3Like> | undefined;
    this.ownsClient = typeof s3?.send !== 'function';
    if (!this.ownsClient) this.client = s3 as S3Like;
    else if (s3 !== undefined && (typeof s3 !== 'object' || s3 === null)) {
      throw new ValidationError(
        'new S3Archive(options): "s3" must be an S3Client or its configuration.',
      );
    }
  }

  protected groupOf(space: string, type: string): string {
    return `${space}\0${type}`;
  }

  protected newData(): ByteChunks {
    return new ByteChunks();
  }

  protected append(
    data: ByteChunks,
    event: CloudEvent,
    where: AcceptedContext,
    acceptedAt: number,
    seq: number,
  ): number {
    return writeRecord(data, event, where, acceptedAt, seq);
  }

  protected async write(batch: ArchiveBatch<ByteChunks>, signal: AbortSignal): Promise<void> {
    let object = this.objects.get(batch);
    if (!object) {
      object = this.makeObject(batch);
      this.objects.set(batch, object);
    }
    const { key, body } = await object;
    await this.send(
      'PutObjectCommand',
      {
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentType: this.gzip ? 'application/gzip' : 'application/x-ndjson',
      },
      signal,
    );
  }

  private async makeObject(
    batch: ArchiveBatch<ByteChunks>,
  ): Promise<{ key: string; body: Buffer }> {
    const key = objectKey(this.prefix, {
      space: batch.space,
      type: batch.type,
      first: batch.firstAt,
      last: batch.lastAt,
      id: randomBytes(6).toString('hex'),
      gzip: this.gzip,
    });
    const text = batch.data.bytes();
    return { key, body: this.gzip ? await gzipAsync(text) : text };
  }

  protected async release(): Promise<void> {
    if (this.ownsClient) this.client?.destroy?.();
    this.client = undefined;
  }

  /** The events of a window, in the order they were accepted. See {@link ArchiveSource}. */
  async *read(query: ArchiveQuery): AsyncIterable<ArchivedEvent> {
    const runs: Run<StoredRecord>[] = [];
    for await (const key of this.keysOf(query)) {
      const parsed = parseObjectKey(this.prefix, key);
      if (!parsed || parsed.last < query.from || parsed.first >= query.to) continue;
      if (query.space !== undefined && parsed.space !== query.space) continue;
      if (query.type !== undefined && parsed.type !== undefined && parsed.type !== query.type) {
        continue;
      }
      runs.push({
        start: parsed.first,
        load: () => this.readObject(key, parsed.gzip, query.signal),
      });
    }
    runs.sort((a, b) => a.start - b.start);
    for await (const record of mergeRuns(runs, 4)) {
      if (record.acceptedAt >= query.to) break;
      if (query.type !== undefined && record.event.type !== query.type) continue;
      if (record.acceptedAt >= query.from) yield record;
    }
  }

  /**
   * Keys of the objects a window may need: each series (space and type) is ordered by time, so
   * each is listed from the hour an object it needs could start in, up to the window's end. The
   * spaces and types not given are found by listing one level down.
   */
  private async *keysOf(query: ArchiveQuery): AsyncIterable<string> {
    const spaces =
      query.space !== undefined
        ? [partitionPrefix(this.prefix, query.space)]
        : await this.childPrefixes(this.prefix, query.signal);
    for (const space of spaces) {
      const series =
        query.space !== undefined && query.type !== undefined
          ? [partitionPrefix(this.prefix, query.space, query.type)]
          : await this.childPrefixes(space, query.signal);
      for (const prefix of series) yield* this.seriesKeys(prefix, query);
    }
  }

  /** The keys of one series from the window's first possible hour to its last. */
  private async *seriesKeys(series: string, query: ArchiveQuery): AsyncIterable<string> {
    const startAfter = series + hourPath(query.from - this.objectAge - 1);
    const stopAt = series + hourPath(query.to + HOUR);
    for await (const page of this.pages({ Prefix: series, StartAfter: startAfter }, query.signal)) {
      for (const { Key } of page.Contents ?? []) {
        if (Key === undefined) continue;
        if (Key > stopAt) return;
        yield Key;
      }
    }
  }

  /** The prefixes one level below `prefix` (the spaces of the archive, the types of a space). */
  private async childPrefixes(prefix: string, signal: AbortSignal): Promise<string[]> {
    const children: string[] = [];
    for await (const page of this.pages({ Prefix: prefix, Delimiter: '/' }, signal)) {
      for (const { Prefix } of page.CommonPrefixes ?? []) if (Prefix) children.push(Prefix);
    }
    return children;
  }

  /** The pages of a ListObjectsV2 listing. */
  private async *pages(
    input: Record<string, string>,
    signal: AbortSignal,
  ): AsyncIterable<{ Contents?: { Key?: string }[]; CommonPrefixes?: { Prefix?: string }[] }> {
    let token: string | undefined;
    do {
      const page = (await this.send(
        'ListObjectsV2Command',
        { Bucket: this.bucket, ...input, ...(token ? { ContinuationToken: token } : {}) },
        signal,
      )) as {
        Contents?: { Key?: string }[];
        CommonPrefixes?: { Prefix?: string }[];
        IsTruncated?: boolean;
        NextContinuationToken?: string;
      };
      yield page;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  private async readObject(
    key: string,
    gzipped: boolean,
    signal: AbortSignal,
  ): Promise<LineCursor> {
    const object = (await this.send(
      'GetObjectCommand',
      { Bucket: this.bucket, Key: key },
      signal,
    )) as {
      Body?: { transformToByteArray(): Promise<Uint8Array> };
    };
    const bytes = Buffer.from((await object.Body?.transformToByteArray()) ?? []);
    let text: Buffer;
    try {
      text = gzipped ? await gunzipAsync(bytes) : bytes;
    } catch (error) {
      throw new ArchiveUnavailableError(
        `Object "${key}" of the archive "${this.name}" is not gzip.`,
        {
          cause: error,
        },
      );
    }
    return new LineCursor(text, key);
  }

  /** Sends an S3 command; failures become ArchiveUnavailableError. */
  private async send(command: string, input: unknown, signal: AbortSignal): Promise<unknown> {
    const client = this.s3Client();
    const Command = this.commands![command];
    try {
      return await client.send(new Command(input), { abortSignal: signal });
    } catch (error) {
      throw new ArchiveUnavailableError(
        `S3 ${command.replace('Command', '')} failed on bucket "${this.bucket}" (archive "${this.name}"): ${describeError(error)}`,
        { cause: error },
      );
    }
  }

  private s3Client(): S3Like {
    if (!this.commands) {
      this.commands = requireOptionalPeer<Record<string, new (input: unknown) => unknown>>(
        '@aws-sdk/client-s3',
        { feature: 'S3Archive', install: '@aws-sdk/client-s3@3' },
      );
    }
    // The archive retries failed writes itself, for as long as it takes: one request per try.
    this.client ??= new (this.commands.S3Client as new (config: unknown) => S3Like)({
      maxAttempts: 1,
      ...(this.options.s3 as Record<string, unknown> | undefined),
    });
    return this.client;
  }
}
