import { setTimeout as sleep } from 'node:timers/promises';
import { type Kafka, type Message, Partitioners, type Producer } from 'kafkajs';
import type { Logger } from '../logger.ts';
import { lostConnection, reconnecting } from './kafka-retry.ts';

export interface TopicRecords {
  topic: string;
  messages: Message[];
}

export interface RecordPublisher {
  /**
   * One produce round trip per broker for all records; resolves once every in-sync replica has them. While
   * the broker is unreachable it keeps trying for up to a minute, then rejects.
   */
  send(batch: TopicRecords[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * An idempotent producer (acks=all), replaced after any failed send.
 *
 * Idempotence works against Kafka 4.x with kafkajs 2.2.4 (InitProducerId and the v2 record format), and keeps
 * the producer's own retries from writing duplicates or reordering a key. But when kafkajs gives up on a send it
 * rolls the partition sequence numbers back, even if the broker did append the batch before the connection
 * broke; the next batch of the same size to that partition would then be acknowledged as a duplicate and
 * silently dropped, and any other size wedges the producer on OUT_OF_ORDER_SEQUENCE_NUMBER (tulios/kafkajs#598).
 * A fresh producer gets a fresh producer id, so neither can happen.
 *
 * kafkajs gives up on a send as soon as it cannot connect (it does not retry refused connections), so a send
 * is repeated here, on a fresh producer, while the failure is a lost connection: a short broker outage then
 * delays a publish instead of failing it (a worker would redo its whole job for one failed result). A repeat
 * may duplicate a batch that the broker appended before the connection broke; consumers dedupe by event id.
 */
const outageBudgetMs = 60_000;

export function createRecordPublisher(
  kafka: Kafka,
  reconnectMaxDelayMs: number,
  logger: Logger,
): RecordPublisher {
  let current: Promise<Producer> | undefined;
  let closed = false;

  const connect = async (): Promise<Producer> => {
    const producer = kafka.producer({
      idempotent: true,
      retry: reconnecting(reconnectMaxDelayMs, 5),
      // Explicitly the default (murmur2, Java-compatible) partitioner; passing it also silences kafkajs's
      // start-up warning about the v2 default change.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    return producer;
  };

  const producer = (): Promise<Producer> => {
    if (closed) return Promise.reject(new Error('the Kafka bus is closed'));
    if (!current) {
      const connecting = connect();
      current = connecting;
      connecting.catch(() => {
        if (current === connecting) current = undefined;
      });
    }
    return current;
  };

  const discard = (failed: Promise<Producer>) => {
    if (current !== failed) return;
    current = undefined;
    failed.then((p) => p.disconnect()).catch(() => {});
  };

  return {
    async send(batch) {
      const deadline = Date.now() + outageBudgetMs;
      for (let attempt = 1; ; attempt++) {
        const using = producer();
        try {
          await (await using).sendBatch({ topicMessages: batch, acks: -1 });
          if (attempt > 1) logger.info({ attempt }, 'Kafka send went through after the broker came back');
          return;
        } catch (error) {
          discard(using);
          // Bounded so that a long outage rejects instead of hanging the caller (the outbox relay retries on
          // its own); a refused record (too large, unauthorised) is not worth repeating.
          if (closed || !lostConnection(error) || Date.now() >= deadline) {
            logger.warn({ err: error, attempt }, 'Kafka send failed');
            throw error;
          }
          if (attempt === 1) logger.warn({ err: error }, 'Kafka send failed; retrying on a fresh producer');
          await sleep(reconnectMaxDelayMs);
        }
      }
    },

    async close() {
      closed = true;
      const last = current;
      current = undefined;
      if (last) await (await last.catch(() => undefined))?.disconnect();
    },
  };
}
