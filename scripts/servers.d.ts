/** A moto server (SQS, Kinesis, Firehose, S3 over AWS's wire protocols) on a loopback port. */
export interface RunningMoto {
  readonly endpoint: string;
  stop(): Promise<void>;
}
/** Starts moto; fails with the command that installs it when it is missing. */
export function startMoto(): Promise<RunningMoto>;
/** librdkafka's mock Kafka cluster (3 brokers, in memory) through kcat. */
export interface RunningKafkaMock {
  readonly brokers: string[];
  /** The kcat process (SIGSTOP freezes every broker, SIGCONT thaws them). */
  readonly pid: number;
  /** Kills it: every broker fails at once. */
  stop(): Promise<void>;
}
/** Starts the Kafka mock cluster; fails with the command that installs kcat when it is missing. */
export function startKafkaMock(): Promise<RunningKafkaMock>;
/** A RabbitMQ node of its own (Debian's `rabbitmq-server`) on a free loopback port. */
export interface RunningRabbit {
  /** `amqp://guest:guest@127.0.0.1:<port>` (guest works from loopback). */
  readonly url: string;
  stop(): Promise<void>;
}
/** Starts a RabbitMQ node; fails with the command that installs it when it is missing. */
export function startRabbit(): Promise<RunningRabbit>;
/** Where scripts/test-servers.sh installs the servers. */
export const CACHE: string;
