import { setTimeout as sleep } from 'node:timers/promises';
import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from '../logger.ts';
import type { DeliveredMessage, MessageHandler, Subscription } from './bus.ts';
import { createOffsetCommitter } from './kafka-commits.ts';
import { createFailureRouter } from './kafka-failures.ts';
import { followMembership, type MembershipState } from './kafka-membership.ts';
import {
  createPartitionState,
  finishRecord,
  forgetQueued,
  keyOf,
  nextStartable,
  type PartitionState,
  queueRecords,
  takeQueued,
} from './kafka-partition.ts';
import type { RecordPublisher } from './kafka-producer.ts';
import { attemptOf, fromRecord, type Headers, header, readHeaders } from './kafka-records.ts';
import { reconnecting } from './kafka-retry.ts';
import type { TopicNames } from './kafka-topics.ts';
import { createSlots } from './slots.ts';

export interface KafkaSubscription extends Subscription {
  /** For readiness: whether the consumer holds an assignment, is (re)joining its group, or lost the broker. */
  state(): MembershipState;
}

export interface SubscriptionSettings {
  /** The logical topic handlers see. */
  topic: string;
  group: string;
  groupId: string;
  names: TopicNames;
  concurrency: number;
  retryBaseDelayMs: number;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  rebalanceTimeoutMs: number;
  reconnectMaxDelayMs: number;
  fetchMaxWaitMs: number;
  shutdownTimeoutMs: number;
}

// Fetching stops for a partition while this many records wait locally, and starts again once the backlog is
// down to `resumeAt`, so that memory stays bounded while a slow handler runs and the fetcher has the next batch
// ready before the backlog runs dry.
const pauseAt = 256;
const resumeAt = 64;

/**
 * One consumer group member for a topic and its retry topics.
 *
 * kafkajs only heartbeats between callbacks, so the callback never waits for a handler: it queues the fetched
 * batch per partition and returns at once. Records of one key are handled one at a time, in order; records of
 * other keys on the same partition run beside them, with at most `concurrency` handlers running in all, so a
 * slow upload never holds the partition's other uploads (no head-of-line blocking). A partition's offset is
 * committed up to its first unfinished record (finished: handled, or its failure durably routed to a retry or
 * dead-letter topic). A handler that runs for an hour therefore costs no heartbeat, no rebalance and no
 * redelivery; a crash repeats at most the records from the first unfinished one on.
 *
 * When the group rebalances, the offsets of finished records are committed before the member rejoins, while the
 * old assignment still stands, and no record starts until the new assignment is known, so a partition that
 * moves takes no finished work with it; only records at or after its first unfinished one are repeated by its
 * next owner.
 *
 * Retry topics are shared by every group of the topic, so each retry record names its group. A retry record
 * that is not due yet holds its partition: the records behind it on that retry topic are due no sooner, as each
 * retry topic has one fixed delay.
 */
export async function startKafkaSubscription(
  kafka: Kafka,
  publisher: RecordPublisher,
  handler: MessageHandler,
  settings: SubscriptionSettings,
  parentLogger: Logger,
): Promise<KafkaSubscription> {
  const log = parentLogger.child({ topic: settings.topic, group: settings.group });
  const consumer: Consumer = kafka.consumer({
    groupId: settings.groupId,
    sessionTimeout: settings.sessionTimeoutMs,
    heartbeatInterval: settings.heartbeatIntervalMs,
    maxWaitTimeInMs: settings.fetchMaxWaitMs,
    allowAutoTopicCreation: false,
    // A member never blocks on a handler, so it rejoins within a heartbeat or two. A short rebalance timeout
    // bounds the wait for a member that died without leaving (a crash, or this consumer's own previous
    // incarnation after kafkajs restarted it on a broker outage) to this, instead of its session timeout.
    rebalanceTimeout: settings.rebalanceTimeoutMs,
    // Every crash makes kafkajs rejoin as a new member (a rebalance), so transient errors are retried for ever;
    // a lost broker still crashes it (kafkajs gives up on refused connections) and it rejoins once it is back.
    retry: reconnecting(settings.reconnectMaxDelayMs, Number.MAX_SAFE_INTEGER),
  });
  const stopping = new AbortController();
  const slots = createSlots(settings.concurrency);
  const commits = createOffsetCommitter(consumer, log);
  const partitions = new Map<string, PartitionState>();

  const stateOf = (topic: string, partition: number): PartitionState => {
    const id = `${topic}:${partition}`;
    let state = partitions.get(id);
    if (!state) {
      state = createPartitionState(topic, partition);
      partitions.set(id, state);
    }
    return state;
  };

  const setPaused = (state: PartitionState, paused: boolean) => {
    const topicPartitions = [{ topic: state.topic, partitions: [state.partition] }];
    try {
      if (paused) consumer.pause(topicPartitions);
      else consumer.resume(topicPartitions);
      state.paused = paused;
    } catch (error) {
      // Between a consumer crash and its restart kafkajs has no group to pause; the next join re-applies it.
      log.debug({ err: error }, 'could not change the pause state of a partition');
    }
  };

  const updateFlow = (state: PartitionState) => {
    if (!state.owned || stopping.signal.aborted) return;
    const hold = state.waiting || state.queue.length >= (state.paused ? resumeAt + 1 : pauseAt);
    if (hold !== state.paused) setPaused(state, hold);
  };

  const revoke = (state: PartitionState) => {
    forgetQueued(state);
    commits.forget(state.topic, state.partition);
    // kafkajs keeps pauses across assignments: a stale one would stall the partition if it came back.
    if (state.paused) setPaused(state, false);
  };

  const onJoin = (assignment: Record<string, number[]>) => {
    for (const state of partitions.values()) {
      if (assignment[state.topic]?.includes(state.partition)) {
        state.owned = true;
        // After a consumer restart kafkajs starts with nothing paused; re-apply ours.
        if (state.paused) setPaused(state, true);
        updateFlow(state);
      } else if (state.owned) {
        revoke(state);
      }
    }
  };

  /** False when the subscription stops first. */
  const wait = (ms: number): Promise<boolean> =>
    sleep(ms, true, { signal: stopping.signal }).catch(() => false);
  const failures = createFailureRouter({
    publisher,
    names: settings.names,
    group: settings.group,
    retryBaseDelayMs: settings.retryBaseDelayMs,
    log,
    wait,
  });

  /** Handles one record (its slot already taken); true when its offset may be committed. */
  const handleRecord = async (
    state: PartitionState,
    record: KafkaMessage,
    headers: Headers,
    epoch: number,
  ): Promise<boolean> => {
    const at = { topic: state.topic, partition: state.partition, offset: record.offset };
    const attempt = attemptOf(headers);
    let message: DeliveredMessage;
    try {
      message = { ...fromRecord(settings.topic, record, headers), position: at };
    } catch (error) {
      // Undecodable: no attempt can succeed.
      return failures.deadLetter(record, headers, at, attempt, error);
    }
    try {
      if (!(await membership.settled(stopping.signal)) || state.epoch !== epoch) return false;
      await handler(message);
      return true;
    } catch (error) {
      if (state.epoch !== epoch) return false;
      log.warn({ err: error, eventId: message.id, attempt }, 'handler failed');
      return failures.afterFailure(record, headers, at, attempt, error);
    }
  };

  const finish = (state: PartitionState, offset: bigint) => {
    const next = finishRecord(state, offset);
    if (next !== undefined) commits.mark(state.topic, state.partition, next.toString());
  };

  const running = new Set<Promise<void>>();

  const start = (state: PartitionState, index: number, headers: Headers) => {
    const record = takeQueued(state, index);
    updateFlow(state);
    const key = keyOf(record);
    const epoch = state.epoch;
    state.busyKeys.add(key);
    const run = handleRecord(state, record, headers, epoch)
      .then((done) => {
        if (done && state.epoch === epoch) finish(state, BigInt(record.offset));
      })
      // Left unfinished, the record is delivered again after a restart or a rebalance.
      .catch((error: unknown) => log.error({ err: error, offset: record.offset }, 'record handling failed'))
      .finally(() => {
        slots.release();
        state.busyKeys.delete(key);
        running.delete(run);
        kick(state);
      });
    running.add(run);
  };

  /** Starts every record of the partition that may start, as slots come free; ends when none may. */
  const dispatch = async (state: PartitionState) => {
    try {
      while (!stopping.signal.aborted && state.owned) {
        const index = nextStartable(state);
        if (index === -1) break;
        const record = state.queue[index] as KafkaMessage;
        const headers = readHeaders(record.headers);
        const target = headers[header.group];
        if (target !== undefined && target !== settings.group) {
          takeQueued(state, index);
          finish(state, BigInt(record.offset));
          continue;
        }
        const notBefore = Number(headers[header.notBefore] ?? 0);
        if (notBefore > Date.now()) {
          state.waiting = true;
          updateFlow(state);
          // A timer may fire a millisecond early by the wall clock that not-before is written in.
          const waited = await wait(notBefore - Date.now());
          state.waiting = false;
          updateFlow(state);
          if (!waited) break;
          continue;
        }
        if (!(await slots.acquire(stopping.signal))) break;
        // A revocation while waiting for the slot emptied the queue: look again (or stop, if stopping).
        if (state.queue[index] !== record || !state.owned || stopping.signal.aborted) {
          slots.release();
          continue;
        }
        start(state, index, headers);
      }
    } finally {
      state.dispatching = false;
    }
  };

  const kick = (state: PartitionState) => {
    if (!state.dispatching && state.queue.length > 0 && !stopping.signal.aborted) {
      state.dispatching = true;
      void dispatch(state);
    }
  };

  const enqueue = (topic: string, partition: number, records: KafkaMessage[]) => {
    const state = stateOf(topic, partition);
    state.owned = true;
    queueRecords(state, records);
    updateFlow(state);
    kick(state);
  };

  const membership = followMembership(consumer, log, {
    beforeRejoin: () => commits.beforeRejoin(),
    joined(assignment) {
      onJoin(assignment);
      commits.rejoined();
    },
  });

  await consumer.connect();
  try {
    // A group that is new reads the topic from the start: messages published before its first subscription
    // are delivered, not skipped (at least once; handlers dedupe).
    await consumer.subscribe({
      topics: [settings.names.main, ...settings.names.retries],
      fromBeginning: true,
    });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        if (!stopping.signal.aborted) enqueue(batch.topic, batch.partition, batch.messages);
      },
    });
  } catch (error) {
    await consumer.disconnect().catch(() => {});
    throw error;
  }

  let stopped: Promise<void> | undefined;
  const stop = async () => {
    stopping.abort();
    const finished = await Promise.race([
      Promise.all(running).then(() => true),
      sleep(settings.shutdownTimeoutMs, false, { ref: false }),
    ]);
    if (!finished) log.warn('handlers still running at shutdown; their messages will be delivered again');
    await commits.close();
    await consumer.disconnect();
  };
  return {
    state: membership.state,
    stop() {
      stopped ??= stop();
      return stopped;
    },
  };
}
