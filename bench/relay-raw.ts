import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Message, Partitioners } from 'kafkajs';
import type pg from 'pg';

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
 * starts, so its rate is the producer's alone. Their payloads are the text PostgreSQL prints for a jsonb, as
 * the relay sends it (a space after each colon and comma: longer than `JSON.stringify`'s).
 */
export async function rawProducer(brokers: string[], topic: string, batchSize: number, database: pg.Pool) {
  const kafka = new Kafka({ brokers, clientId: 'bench-raw', logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const records = async (count: number): Promise<Message[]> => {
    const payloads = Array.from({ length: count }, optimizeRequest);
    const { rows } = await database.query<{ text: string }>(
      'select p::text as text from jsonb_array_elements($1::jsonb) with ordinality as e(p, n) order by n',
      [JSON.stringify(payloads)],
    );
    return payloads.map((payload, i) => ({
      key: payload.mediaId,
      value: rows[i]?.text ?? '',
      headers: { 'event-id': randomUUID(), 'event-type': 'media.optimize.request', 'schema-version': '1' },
    }));
  };
  return {
    /** `count` records in batches, ready to send. */
    async prepare(count: number): Promise<Message[][]> {
      const all = await records(count);
      return Array.from({ length: Math.ceil(count / batchSize) }, (_, i) =>
        all.slice(i * batchSize, (i + 1) * batchSize),
      );
    },
    async send(batches: Message[][]) {
      for (const messages of batches) await producer.send({ topic, messages, acks: -1 });
    },
    close: () => producer.disconnect(),
  };
}
