import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin } from 'kafkajs';
import { maxDeliveryAttempts } from './bus.ts';

export interface TopicNames {
  main: string;
  /** Retry topic for records whose `failedAttempt`-th delivery failed: `.retry.1` … `.retry.4`. */
  retry(failedAttempt: number): string;
  retries: string[];
  dlq: string;
}

export function topicNames(prefix: string, topic: string): TopicNames {
  const main = `${prefix}${topic}`;
  const retry = (failedAttempt: number) => `${main}.retry.${failedAttempt}`;
  return {
    main,
    retry,
    retries: Array.from({ length: maxDeliveryAttempts - 1 }, (_, i) => retry(i + 1)),
    dlq: `${main}.dlq`,
  };
}

/**
 * The Kafka group id of a (topic, group) subscription. One group per topic, as the embedded bus has one queue
 * per topic and group: kafkajs's round-robin assigner assumes every member of a group subscribes to the same
 * topics, so a process subscribing one group name to two topics would otherwise be handed partitions of
 * topics it does not read.
 */
export function kafkaGroupId(prefix: string, topic: string, group: string): string {
  return `${prefix}${topic}.${group}`;
}

const readyTimeoutMs = 30_000;

/**
 * Creates topics on first use with the configured partitions and replication, tolerating topics that exist
 * (another process won the race, or an operator made them), and waits until every partition's leader serves it,
 * so that the first send or fetch does not fail.
 */
export function createTopicEnsurer(
  admin: Admin,
  settings: { partitions: number; replicationFactor: number },
) {
  const known = new Map<string, Promise<void>>();

  async function create(topics: string[]): Promise<void> {
    await admin.createTopics({
      topics: topics.map((topic) => ({
        topic,
        numPartitions: settings.partitions,
        replicationFactor: settings.replicationFactor,
      })),
      // kafkajs skips its own wait when some of the topics already existed; the loop below always waits.
      waitForLeaders: false,
    });
    const deadline = Date.now() + readyTimeoutMs;
    while (!(await ready(topics))) {
      if (Date.now() > deadline) throw new Error(`Kafka topics ${topics.join(', ')} are not ready`);
      await sleep(100);
    }
  }

  // Metadata names a leader a moment before that broker serves the partition; a consumer that starts fetching
  // in that window gets NOT_LEADER answers and rejoins its group. ListOffsets is answered by the leader only.
  async function ready(topics: string[]): Promise<boolean> {
    try {
      const metadata = await admin.fetchTopicMetadata({ topics });
      const led = metadata.topics.every(
        (t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0),
      );
      if (!led || metadata.topics.length !== topics.length) return false;
      await Promise.all(topics.map((topic) => admin.fetchTopicOffsets(topic)));
      return true;
    } catch {
      return false;
    }
  }

  return async function ensureTopics(topics: string[]): Promise<void> {
    const missing = topics.filter((t) => !known.has(t));
    if (missing.length > 0) {
      const created = create(missing);
      for (const topic of missing) {
        known.set(
          topic,
          created.catch((error: unknown) => {
            // Forget the failure so that the next publish or subscribe tries again.
            known.delete(topic);
            throw error;
          }),
        );
      }
    }
    await Promise.all(topics.map((t) => known.get(t)));
  };
}
