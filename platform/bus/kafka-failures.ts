import type { KafkaMessage } from 'kafkajs';
import type { Logger } from '../logger.ts';
import { maxDeliveryAttempts } from './bus.ts';
import type { RecordPublisher, TopicRecords } from './kafka-producer.ts';
import {
  type Coordinates,
  deadLetterRecord,
  type Headers,
  header,
  retryDelayMs,
  retryRecord,
} from './kafka-records.ts';
import type { TopicNames } from './kafka-topics.ts';

/**
 * Moves a record whose handler failed out of its partition: to the retry topic of the failed attempt with a
 * not-before time, or after the last attempt to the dead-letter topic. Each call resolves true once the copy
 * is acknowledged, so the caller may commit the original; false when `wait` gave up (the subscription stops)
 * first, and the original must stay uncommitted to be delivered again.
 */
export function createFailureRouter(deps: {
  publisher: RecordPublisher;
  names: TopicNames;
  group: string;
  retryBaseDelayMs: number;
  log: Logger;
  /** Sleeps; false when the subscription stopped meanwhile. */
  wait(ms: number): Promise<boolean>;
}) {
  const send = async (records: TopicRecords): Promise<boolean> => {
    for (let delay = 500; ; delay = Math.min(delay * 2, 5000)) {
      try {
        await deps.publisher.send([records]);
        return true;
      } catch (error) {
        // Nothing behind the record on its partition may commit before it, so keep trying rather than skip.
        deps.log.warn({ err: error, to: records.topic }, 'could not route a failed message; retrying');
        if (!(await deps.wait(delay))) return false;
      }
    }
  };

  const deadLetter = async (
    record: KafkaMessage,
    headers: Headers,
    at: Coordinates,
    attempts: number,
    error: unknown,
  ): Promise<boolean> => {
    const copy = deadLetterRecord(record, headers, { attempts, group: deps.group, error, at });
    const routed = await send({ topic: deps.names.dlq, messages: [copy] });
    if (routed) deps.log.error({ err: error, at, eventId: headers[header.eventId] }, 'message dead-lettered');
    return routed;
  };

  return {
    deadLetter,

    async afterFailure(
      record: KafkaMessage,
      headers: Headers,
      at: Coordinates,
      attempt: number,
      error: unknown,
    ): Promise<boolean> {
      if (attempt >= maxDeliveryAttempts) return deadLetter(record, headers, at, attempt, error);
      const notBefore = Date.now() + retryDelayMs(deps.retryBaseDelayMs, attempt);
      const copy = retryRecord(record, headers, { attempt: attempt + 1, notBefore, group: deps.group, at });
      return send({ topic: deps.names.retry(attempt), messages: [copy] });
    },
  };
}
