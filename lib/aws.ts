/**
 * `event-gateway/aws`: the S3 event archive. Needs the optional peer `@aws-sdk/client-s3`. (AWS
 * function types — `awslambda`, `awssqs`, `awskinesis`, `awsfirehose` — need no import: the
 * gateway loads their SDK clients on first use, configured by the `aws` option of `createGateway`.)
 *
 * @example
 * ```ts
 * import { createGateway, MemoryStore } from 'event-gateway';
 * import { S3Archive } from 'event-gateway/aws';
 * const archive = new S3Archive({ bucket: 'events' });
 * const gateway = createGateway(new MemoryStore(), { plugins: [archive] });
 * ```
 *
 * @packageDocumentation
 */
export { S3Archive } from './sinks/s3-archive';
export type { S3ArchiveOptions, S3Like } from './sinks/s3-archive';
export type { AwsOptions } from './delivery/providers/aws/aws-clients';
