/** A moto server (SQS, Kinesis, Firehose, S3 over AWS's wire protocols) on a loopback port. */
export interface RunningMoto {
  readonly endpoint: string;
  stop(): Promise<void>;
}
/** Starts moto; fails with the command that installs it when it is missing. */
export function startMoto(): Promise<RunningMoto>;
/** Where scripts/test-servers.sh installs the servers. */
export const CACHE: string;
