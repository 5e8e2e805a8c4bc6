/** Messages a consumer group has yet to take from one partition of a topic. */
export interface ConsumerLag {
  /** The logical topic (`optimize.request`), without the prefix. */
  topic: string;
  group: string;
  /** Kafka's partition; the embedded bus has one queue per group, reported as partition 0. */
  partition: number;
  messages: number;
}

/**
 * How far behind the consumers are, for metrics and autoscaling. Kept apart from the `Bus` port: only the
 * control plane's metrics read it. Retry topics are left out on purpose: their records wait out a backoff,
 * which is not a consumer falling behind.
 */
export interface BusBacklog {
  /** Every group subscribed to each of `topics`, per partition. */
  consumerLag(topics: readonly string[]): Promise<ConsumerLag[]>;
}
