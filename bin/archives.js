// The command's archive flags: which archives its gateway feeds, and `event-gateway replay`.
// A thin layer: S3Archive, KafkaArchive and gateway.replay do the work.

const ARCHIVE_USAGE = `Archives (each accepted event kept where your storage already is):
  --archive-s3 s3://BUCKET[/PREFIX]  archive to S3 (region and credentials from the AWS environment)
  --s3-endpoint URL         an S3-compatible endpoint (path-style addressing), e.g. a local one
  --archive-kafka h:p,...   archive to Kafka, on these brokers
  --archive-topic NAME      the Kafka archive's topic (default event-gateway-archive)
  --archive-when-full refuse|drop  when the archive is down past its buffer (default refuse: 503)

Replay (send archived events through the gateway again, then exit):
  event-gateway replay [store options] (--archive-s3 URL | --archive-kafka BROKERS)
      --from TIME [--to TIME] [--space S] [--type T] [--rate N] [--dry-run]
  TIME is ISO 8601 (2026-11-27T10:00:00Z) or ms since the epoch; prints the totals as JSON.`;

const ARCHIVE_OPTIONS = {
  'archive-s3': { type: 'string' },
  's3-endpoint': { type: 'string' },
  'archive-kafka': { type: 'string' },
  'archive-topic': { type: 'string' },
  'archive-when-full': { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  space: { type: 'string' },
  type: { type: 'string' },
  rate: { type: 'string' },
  'dry-run': { type: 'boolean' },
};

const REPLAY_ONLY = ['from', 'to', 'space', 'type', 'rate', 'dry-run'];

/** The archive flags, checked: `archives(lib)` makes the archives they name. */
function parseArchiveFlags(values, replaying, UsageError) {
  if (!replaying) {
    const stray = REPLAY_ONLY.filter((name) => values[name] !== undefined);
    if (stray.length > 0)
      throw new UsageError(`--${stray[0]} is a replay flag: event-gateway replay ...`);
  }
  const whenFull = values['archive-when-full'] ?? 'refuse';
  if (whenFull !== 'refuse' && whenFull !== 'drop') {
    throw new UsageError(`--archive-when-full must be refuse or drop, got "${whenFull}".`);
  }
  let s3;
  if (values['archive-s3'] !== undefined) {
    const found = /^s3:\/\/([^/]{3,})(?:\/(.*))?$/.exec(values['archive-s3']);
    if (!found)
      throw new UsageError(
        `--archive-s3 must look like s3://bucket/prefix, got "${values['archive-s3']}".`,
      );
    const prefix =
      found[2] === undefined || found[2] === '' ? undefined : found[2].replace(/\/?$/, '/');
    s3 = { bucket: found[1], prefix };
  } else if (values['s3-endpoint'] !== undefined) {
    throw new UsageError('--s3-endpoint goes with --archive-s3.');
  }
  const kafka = values['archive-kafka']?.split(',').filter(Boolean);
  if (values['archive-kafka'] !== undefined && kafka.length === 0) {
    throw new UsageError('--archive-kafka needs brokers (host:port,...).');
  }
  if (values['archive-topic'] !== undefined && kafka === undefined) {
    throw new UsageError('--archive-topic goes with --archive-kafka.');
  }
  if (replaying) {
    if ((s3 === undefined) === (kafka === undefined)) {
      throw new UsageError('replay reads one archive: give --archive-s3 or --archive-kafka.');
    }
    if (values.from === undefined) throw new UsageError('replay needs --from TIME.');
  }
  const rate = values.rate === undefined ? undefined : Number(values.rate);
  if (rate !== undefined && !(rate > 0))
    throw new UsageError(`--rate must be a positive number, got "${values.rate}".`);
  const time = (text) =>
    text === undefined ? undefined : /^\d+$/.test(text) ? Number(text) : text;
  return {
    archives: (lib) => [
      ...(s3
        ? [
            new lib.S3Archive({
              bucket: s3.bucket,
              prefix: s3.prefix,
              whenFull,
              s3: {
                region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
                ...(values['s3-endpoint']
                  ? { endpoint: values['s3-endpoint'], forcePathStyle: true }
                  : {}),
              },
            }),
          ]
        : []),
      ...(kafka
        ? [
            new lib.KafkaArchive({
              client: { brokers: kafka },
              topic: values['archive-topic'],
              whenFull,
            }),
          ]
        : []),
    ],
    replay: replaying && {
      from: time(values.from),
      to: time(values.to),
      space: values.space,
      type: values.type,
      rate,
      dryRun: values['dry-run'] === true,
    },
  };
}

/** `event-gateway replay`: replays through a gateway on the store, drains, prints the totals. */
async function runReplay({ gateway, source, replay, log }) {
  const totals = await gateway.replay({
    ...replay,
    source,
    onProgress: (progress) => log.info(progress, 'replaying'),
  });
  const { undelivered } = await gateway.close();
  process.stdout.write(`${JSON.stringify({ ...totals, undelivered: undelivered.length })}\n`);
  return undelivered.length === 0 ? 0 : 1;
}

module.exports = { ARCHIVE_USAGE, ARCHIVE_OPTIONS, parseArchiveFlags, runReplay };
