import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, Kafka, KafkaMessage, Message } from 'kafkajs';
import type { BusMessage } from './bus.ts';
import { type DeadLetter, type DeadLetterAdmin, redriveHeader } from './dead-letters.ts';
import type { RecordPublisher } from './kafka-producer.ts';
import { fromRecord, type Headers, header, readHeaders } from './kafka-records.ts';
import type { TopicNames } from './kafka-topics.ts';

interface DlqRecord {
  id: string;
  record: KafkaMessage;
  headers: Headers;
}

const readTimeoutMs = 60_000;
const defaultLimit = 100;

/**
 * Dead letters live in `<topic>.dlq`, which is append-only; a redrive appends a marker record (header
 * `redriven` = the dead letter's id) so that listing shows only what is still pending. Listing reads the whole
 * topic with a throwaway consumer group: fine for an operator tool over a queue that should stay small.
 */
export function createKafkaDeadLetters(deps: {
  kafka: Kafka;
  admin: Admin;
  publisher: RecordPublisher;
  names(topic: string): TopicNames;
  ensureTopics(topics: string[]): Promise<void>;
}): DeadLetterAdmin {
  const pending = async (topic: string, group: string | undefined): Promise<DlqRecord[]> => {
    const { dlq } = deps.names(topic);
    await deps.ensureTopics([dlq]);
    const records = await withRetries(() => readTopic(deps.kafka, deps.admin, dlq));
    const redriven = new Set(records.flatMap((r) => r.headers[header.redriven] ?? []));
    return records.filter(
      (r) =>
        r.headers[header.redriven] === undefined &&
        !redriven.has(r.id) &&
        (group === undefined || r.headers[header.group] === group),
    );
  };

  return {
    async listDeadLetters(topic, options = {}) {
      const records = await pending(topic, options.group);
      return records.slice(0, options.limit ?? defaultLimit).map((r) => toDeadLetter(topic, r));
    },

    async redrive(topic, options = {}) {
      const wanted = options.ids && new Set(options.ids);
      const chosen = (await pending(topic, options.group)).filter((r) => !wanted || wanted.has(r.id));
      if (chosen.length === 0) return 0;
      const names = deps.names(topic);
      await deps.ensureTopics([names.main]);
      await deps.publisher.send([{ topic: names.main, messages: chosen.map(redriveRecord) }]);
      // Only after the redrive is acknowledged: a crash in between redrives again later, which handlers absorb
      // by event id; the other order could lose the dead letter.
      await deps.publisher.send([{ topic: names.dlq, messages: chosen.map(marker) }]);
      return chosen.length;
    },
  };
}

/** The dead-lettered record again, for the group that gave up on it only, with fresh attempts. */
function redriveRecord(r: DlqRecord): Message {
  const headers: Headers = {};
  for (const [name, value] of Object.entries(r.headers)) {
    if (name === header.eventId || name === header.eventType || !isBusHeader(name)) headers[name] = value;
  }
  const group = r.headers[header.group];
  if (group !== undefined) headers[header.group] = group;
  headers[redriveHeader] = r.id;
  return { key: r.record.key, value: r.record.value, headers };
}

function marker(r: DlqRecord): Message {
  return { key: r.record.key, value: null, headers: { [header.redriven]: r.id } };
}

const busHeaders = new Set<string>(Object.values(header));
const isBusHeader = (name: string) => busHeaders.has(name);

function toDeadLetter(topic: string, r: DlqRecord): DeadLetter {
  return {
    id: r.id,
    group: r.headers[header.group] ?? '',
    message: decode(topic, r),
    error: { message: r.headers[header.errorMessage] ?? '', stack: r.headers[header.errorStack] },
    attempts: Number(r.headers[header.attempts] ?? 0),
    failedAt: new Date(Number(r.record.timestamp)),
  };
}

/** A record that was dead-lettered for being undecodable is shown as raw text rather than hidden. */
function decode(topic: string, r: DlqRecord): BusMessage {
  try {
    const { topic: _topic, attempt: _attempt, ...message } = fromRecord(topic, r.record, r.headers);
    return message;
  } catch {
    return {
      id: r.headers[header.eventId] ?? '',
      key: r.record.key?.toString() ?? '',
      type: r.headers[header.eventType] ?? '',
      payload: r.record.value?.toString() ?? null,
      headers: Object.fromEntries(Object.entries(r.headers).filter(([name]) => !isBusHeader(name))),
    };
  }
}

const readAttempts = 3;

/**
 * A listing is a read and safe to repeat; a throwaway group's join or an offsets request can meet a transient
 * broker answer (a coordinator moving, a metadata refresh) that an operator should not see as a 500.
 */
async function withRetries<T>(read: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (error) {
      if (attempt >= readAttempts) throw error;
      await sleep(200 * attempt);
    }
  }
}

/** Every record of `topic` up to its current end, oldest first, read by a consumer group used once. */
async function readTopic(kafka: Kafka, admin: Admin, topic: string): Promise<DlqRecord[]> {
  const ends = new Map<number, bigint>();
  for (const p of await admin.fetchTopicOffsets(topic)) {
    if (BigInt(p.high) > BigInt(p.low)) ends.set(p.partition, BigInt(p.high));
  }
  if (ends.size === 0) return [];
  const groupId = `mediagate-dlq-reader-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, allowAutoTopicCreation: false });
  const records: DlqRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`reading ${topic} timed out`)), readTimeoutMs);
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const end = ends.get(batch.partition);
            if (end === undefined) return;
            for (const record of batch.messages) {
              const offset = BigInt(record.offset);
              if (offset >= end) break;
              records.push({
                id: `${batch.partition}:${record.offset}`,
                record,
                headers: readHeaders(record.headers),
              });
              if (offset + 1n >= end) ends.delete(batch.partition);
            }
            if (ends.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
    await admin.deleteGroups([groupId]).catch(() => {});
  }
  return records.sort((a, b) => Number(BigInt(a.record.timestamp) - BigInt(b.record.timestamp)));
}
