import { setTimeout as sleep } from 'node:timers/promises';
import type { Consumer, TopicPartitionOffsetAndMetadata } from 'kafkajs';
import type { Logger } from '../logger.ts';

/**
 * Commits the offsets of finished records, coalescing: while one commit is in flight, newer offsets of every
 * partition wait and go out together in the next one, so a fast handler costs no commit round trip per
 * message. A failed commit is retried; until it lands, a crash only redelivers (at least once).
 */
export function createOffsetCommitter(consumer: Consumer, log: Logger) {
  const pending = new Map<string, TopicPartitionOffsetAndMetadata>();
  let flushing: Promise<void> | undefined;
  let closed = false;

  const flush = async () => {
    try {
      while (pending.size > 0) {
        const offsets = [...pending.values()];
        pending.clear();
        try {
          await consumer.commitOffsets(offsets);
        } catch (error) {
          for (const o of offsets) {
            const id = `${o.topic}:${o.partition}`;
            if (!pending.has(id)) pending.set(id, o);
          }
          if (closed) throw error;
          log.warn({ err: error }, 'Kafka offset commit failed; retrying');
          await sleep(1000);
        }
      }
    } finally {
      flushing = undefined;
    }
  };

  return {
    /** `offset` is the next record to read, as Kafka expects. */
    mark(topic: string, partition: number, offset: string) {
      if (closed) return;
      pending.set(`${topic}:${partition}`, { topic, partition, offset });
      flushing ??= flush();
    },

    /** The partition went to another member; committing for it now could move its offset backwards. */
    forget(topic: string, partition: number) {
      pending.delete(`${topic}:${partition}`);
    },

    /** One last attempt for what is pending; afterwards marks are ignored. */
    async close() {
      closed = true;
      await flushing?.catch(() => {});
      if (pending.size > 0) {
        await flush().catch((error: unknown) =>
          log.warn({ err: error, offsets: [...pending.values()] }, 'final Kafka offset commit failed'),
        );
      }
    },
  };
}
