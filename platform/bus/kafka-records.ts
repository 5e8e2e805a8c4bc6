import type { IHeaders, KafkaMessage, Message } from 'kafkajs';
import { type BusMessage, type DeliveredMessage, payloadText } from './bus.ts';

/** Headers the Kafka bus owns. They win over message headers of the same name and are not handed to handlers. */
export const header = {
  eventId: 'event-id',
  eventType: 'event-type',
  /** Delivery attempt this record stands for (absent: 1). */
  attempt: 'attempt',
  /** Epoch ms before which a retry record must not be handled. */
  notBefore: 'not-before',
  /** On retry, dead-letter and redrive records: the only group meant to handle it (retry topics are shared). */
  group: 'consumer-group',
  originalTopic: 'original-topic',
  originalPartition: 'original-partition',
  originalOffset: 'original-offset',
  errorMessage: 'error-message',
  errorStack: 'error-stack',
  attempts: 'attempts',
  /** On a marker record in a `.dlq` topic: the dead letter that was redriven. */
  redriven: 'redriven',
} as const;

const reserved = new Set<string>(Object.values(header));
const maxStackChars = 4000;
const maxErrorChars = 1000;

export type Headers = Record<string, string>;

export function toRecord(message: BusMessage): Message {
  return {
    key: message.key,
    value: payloadText(message.payload),
    headers: { ...message.headers, [header.eventId]: message.id, [header.eventType]: message.type },
  };
}

/** kafkajs hands header values over as Buffers, and as arrays when a name repeats (the bus never repeats one). */
export function readHeaders(raw: IHeaders | undefined): Headers {
  // A producer may name a header `__proto__` or `constructor`: no prototype, so every name is just a header.
  const headers: Headers = Object.create(null);
  for (const [name, value] of Object.entries(raw ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) headers[name] = first.toString();
  }
  return headers;
}

/** Throws when the record is not a bus message: it can never succeed, so the caller dead-letters it at once. */
export function fromRecord(topic: string, record: KafkaMessage, headers: Headers): DeliveredMessage {
  const id = headers[header.eventId];
  const type = headers[header.eventType];
  if (!id || !type) throw new Error(`record without ${header.eventId}/${header.eventType} headers`);
  if (record.key === null || record.value === null) throw new Error(`record ${id} without key or value`);
  return {
    id,
    key: record.key.toString(),
    type,
    payload: JSON.parse(record.value.toString()),
    headers: Object.fromEntries(Object.entries(headers).filter(([name]) => !reserved.has(name))),
    topic,
    attempt: attemptOf(headers),
  };
}

export function attemptOf(headers: Headers): number {
  const attempt = Number(headers[header.attempt] ?? 1);
  return Number.isInteger(attempt) && attempt > 0 ? attempt : 1;
}

export interface Coordinates {
  topic: string;
  partition: number;
  offset: string;
}

/**
 * Where the message was first read, carried through the retry chain so the dead letter points at the record
 * the producer wrote rather than at the last retry copy.
 */
function origin(headers: Headers, at: Coordinates): Headers {
  return {
    [header.originalTopic]: headers[header.originalTopic] ?? at.topic,
    [header.originalPartition]: headers[header.originalPartition] ?? String(at.partition),
    [header.originalOffset]: headers[header.originalOffset] ?? at.offset,
  };
}

/** The failed record again, byte for byte, with the next attempt due at `notBefore`. */
export function retryRecord(
  record: KafkaMessage,
  headers: Headers,
  next: { attempt: number; notBefore: number; group: string; at: Coordinates },
): Message {
  return {
    key: record.key,
    value: record.value,
    headers: {
      ...headers,
      ...origin(headers, next.at),
      [header.attempt]: String(next.attempt),
      [header.notBefore]: String(next.notBefore),
      [header.group]: next.group,
    },
  };
}

export function deadLetterRecord(
  record: KafkaMessage,
  headers: Headers,
  failure: { attempts: number; group: string; error: unknown; at: Coordinates },
): Message {
  const { [header.attempt]: _attempt, [header.notBefore]: _notBefore, ...kept } = headers;
  const error = failure.error instanceof Error ? failure.error : new Error(String(failure.error));
  return {
    key: record.key,
    value: record.value,
    headers: {
      ...kept,
      ...origin(headers, failure.at),
      [header.group]: failure.group,
      [header.attempts]: String(failure.attempts),
      [header.errorMessage]: error.message.slice(0, maxErrorChars),
      [header.errorStack]: (error.stack ?? '').slice(0, maxStackChars),
    },
  };
}

/** 1 s, 2 s, 4 s, … for a 1 s base, capped so that a large base cannot park a message for hours. */
export function retryDelayMs(baseMs: number, failedAttempt: number): number {
  return Math.min(baseMs * 2 ** (failedAttempt - 1), 15 * 60_000);
}
