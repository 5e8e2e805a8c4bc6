import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Message, Partitioners } from 'kafkajs';

/** An optimize request of realistic size, stamped with the time it is written. */
export function optimizeRequest() {
  const mediaId = randomUUID();
  const objectKey = `raw/${mediaId}/${randomUUID()}`;
  return {
    mediaId,
    bucket: 'mediagate',
    objectKey,
    kind: 'image',
    contentType: 'image/jpeg',
    canonicalUrl: `https://edge.example.com/m/${objectKey}`,
    probe: { format: 'jpeg', width: 4032, height: 3024, bytes: 3_481_223, orientation: 6 },
    writtenAt: performance.now(),
  };
}

/**
 * The anchor: the bare kafkajs producer with the bus's producer settings (idempotent, acks=all, the default
 * partitioner), sending the records the relay sends (key, payload and headers alike) in batches of the relay's
 * size, one at a time as the relay must to keep each media's order. The records are built before the clock
 * starts, so its rate is the producer's alone.
 */
export async function rawProducer(brokers: string[], topic: string, batchSize: number) {
  const kafka = new Kafka({ brokers, clientId: 'bench-raw', logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const record = (): Message => {
    const payload = optimizeRequest();
    return {
      key: payload.mediaId,
      value: JSON.stringify(payload),
      headers: { 'event-id': randomUUID(), 'event-type': 'media.optimize.request', 'schema-version': '1' },
    };
  };
  return {
    /** `count` records in batches, ready to send. */
    prepare(count: number): Message[][] {
      return Array.from({ length: Math.ceil(count / batchSize) }, (_, i) =>
        Array.from({ length: Math.min(batchSize, count - i * batchSize) }, record),
      );
    },
    async send(batches: Message[][]) {
      for (const messages of batches) await producer.send({ topic, messages, acks: -1 });
    },
    close: () => producer.disconnect(),
  };
}
