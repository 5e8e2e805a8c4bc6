import { type Kafka, type Message, Partitioners, type Producer } from 'kafkajs';
import type { Logger } from '../logger.ts';

export interface TopicRecords {
  topic: string;
  messages: Message[];
}

export interface RecordPublisher {
  /** One produce round trip per broker for all records; resolves once every in-sync replica has them. */
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
 * A fresh producer gets a fresh producer id, so neither can happen; the caller republishes what failed.
 */
export function createRecordPublisher(kafka: Kafka, logger: Logger): RecordPublisher {
  let current: Promise<Producer> | undefined;
  let closed = false;

  const connect = async (): Promise<Producer> => {
    const producer = kafka.producer({
      idempotent: true,
      // Bounded so that publish rejects during a long outage instead of hanging the caller (the outbox relay
      // retries on its own); about a minute of retries in all.
      retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 10_000 },
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
      const using = producer();
      try {
        await (await using).sendBatch({ topicMessages: batch, acks: -1 });
      } catch (error) {
        logger.warn({ err: error }, 'Kafka send failed; replacing the producer');
        discard(using);
        throw error;
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
