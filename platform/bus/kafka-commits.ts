import type { Consumer, TopicPartitionOffsetAndMetadata } from 'kafkajs';
import type { Logger } from '../logger.ts';

const retryDelayMs = 1000;

/**
 * Commits the offsets of finished records, coalescing: while one commit is in flight, newer offsets of every
 * partition wait and go out together in the next one, so a fast handler costs no commit round trip per
 * message. A failed commit is retried; until it lands, a crash only redelivers (at least once).
 */
export function createOffsetCommitter(consumer: Consumer, log: Logger) {
  const pending = new Map<string, TopicPartitionOffsetAndMetadata>();
  /** How often each partition was revoked: a failed commit is put back only for a partition still owned. */
  const revocations = new Map<string, number>();
  let flushing: Promise<void> | undefined;
  let wakeRetry: (() => void) | undefined;
  let closed = false;

  const idOf = (o: { topic: string; partition: number }) => `${o.topic}:${o.partition}`;

  /** One commit of everything pending; on failure what is still ours is pending again. */
  const commitPending = async (): Promise<void> => {
    const offsets = [...pending.values()];
    if (offsets.length === 0) return;
    pending.clear();
    const revisions = offsets.map((o) => revocations.get(idOf(o)) ?? 0);
    try {
      await consumer.commitOffsets(offsets);
    } catch (error) {
      offsets.forEach((o, i) => {
        const id = idOf(o);
        if (!pending.has(id) && (revocations.get(id) ?? 0) === revisions[i]) pending.set(id, o);
      });
      throw error;
    }
  };

  const flush = async () => {
    try {
      while (pending.size > 0) {
        try {
          await commitPending();
        } catch (error) {
          if (closed) throw error;
          log.warn({ err: error }, 'Kafka offset commit failed; retrying');
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, retryDelayMs);
            wakeRetry = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          wakeRetry = undefined;
        }
      }
    } finally {
      flushing = undefined;
    }
  };

  /** Only with something pending: a flush that finds nothing ends before `flushing` is assigned, and its
   * `finally` could not clear it, so every later mark would wait on a flush that is over. */
  const scheduleFlush = () => {
    if (!flushing && pending.size > 0) flushing = flush();
  };

  return {
    /** `offset` is the next record to read, as Kafka expects. */
    mark(topic: string, partition: number, offset: string) {
      if (closed) return;
      pending.set(idOf({ topic, partition }), { topic, partition, offset });
      scheduleFlush();
    },

    /**
     * The group is rebalancing and this member is about to rejoin: commit what is finished now, beside any
     * commit in flight. Called before kafkajs sends its JoinGroup, this commit reaches the coordinator first,
     * while the old generation still owns the partitions; once they move it would be refused and their next
     * owner would run the finished records again.
     */
    beforeRejoin() {
      if (closed || pending.size === 0) return;
      commitPending().catch((error: unknown) => {
        log.warn({ err: error }, 'Kafka offset commit before a rebalance failed; retrying');
        scheduleFlush();
      });
    },

    /** Joined again: a commit refused during the rebalance goes out now, under the new generation. */
    rejoined() {
      wakeRetry?.();
    },

    /** The partition went to another member; committing for it now could move its offset backwards. */
    forget(topic: string, partition: number) {
      const id = idOf({ topic, partition });
      pending.delete(id);
      revocations.set(id, (revocations.get(id) ?? 0) + 1);
    },

    /** One last attempt for what is pending; afterwards marks are ignored. */
    async close() {
      closed = true;
      wakeRetry?.();
      await flushing?.catch(() => {});
      if (pending.size > 0) {
        await commitPending().catch((error: unknown) =>
          log.warn({ err: error, offsets: [...pending.values()] }, 'final Kafka offset commit failed'),
        );
      }
    },
  };
}
