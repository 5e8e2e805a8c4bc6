import type { KafkaMessage } from 'kafkajs';

/**
 * What a subscription knows of one partition it was assigned: the records fetched and not started, the offsets
 * not finished (its commit point), and the keys with a handler running. One key's records run one at a time,
 * in order; other keys' records of the partition run beside them.
 */
export interface PartitionState {
  topic: string;
  partition: number;
  /** Fetched records not started yet, in offset order; kafkajs already moved its fetch position past them. */
  queue: KafkaMessage[];
  /** Offsets queued or running and not finished, ascending: the committed offset never passes the first. */
  unfinished: bigint[];
  /** Keys with a handler running, whichever epoch started it: a key's next record waits for it. */
  busyKeys: Set<string>;
  /** Offset after the last queued record: anything below it arriving again (a refetch from the committed offset
   * after a rebalance or a consumer restart) is queued or done already. Unknown after a revocation. */
  nextExpected: bigint | undefined;
  /** Bumped on revocation: work begun under an older epoch neither commits nor routes its failure, because
   * the partition's next owner starts again from the committed offset. */
  epoch: number;
  owned: boolean;
  paused: boolean;
  /** The next record is a retry that is not due yet. */
  waiting: boolean;
  /** A dispatch loop runs for the partition (set before it starts, as it may finish without yielding). */
  dispatching: boolean;
}

export function createPartitionState(topic: string, partition: number): PartitionState {
  return {
    topic,
    partition,
    queue: [],
    unfinished: [],
    busyKeys: new Set(),
    nextExpected: undefined,
    epoch: 0,
    owned: true,
    paused: false,
    waiting: false,
    dispatching: false,
  };
}

/** Records without a key have no order to keep: each is its own key. */
export const keyOf = (record: KafkaMessage): string =>
  record.key ? record.key.toString('latin1') : `\0${record.offset}`;

/** Queues a fetched batch, skipping what a refetch brings again. */
export function queueRecords(state: PartitionState, records: KafkaMessage[]): void {
  for (const record of records) {
    const offset = BigInt(record.offset);
    if (state.nextExpected !== undefined && offset < state.nextExpected) continue;
    state.queue.push(record);
    state.unfinished.push(offset);
    state.nextExpected = offset + 1n;
  }
}

export function takeQueued(state: PartitionState, index: number): KafkaMessage {
  return state.queue.splice(index, 1)[0] as KafkaMessage;
}

/** The first queued record whose key has nothing running and nothing queued before it; -1 when none. */
export function nextStartable(state: PartitionState): number {
  let held: Set<string> | undefined;
  for (let i = 0; i < state.queue.length; i++) {
    const key = keyOf(state.queue[i] as KafkaMessage);
    if (!state.busyKeys.has(key) && !held?.has(key)) return i;
    held ??= new Set();
    held.add(key);
  }
  return -1;
}

/**
 * The record at `offset` is done. Returns the partition's new commit point (its first unfinished record, or
 * past the last queued one) when it moved, undefined when an earlier record is still unfinished.
 */
export function finishRecord(state: PartitionState, offset: bigint): bigint | undefined {
  const at = state.unfinished.indexOf(offset);
  if (at === -1) return undefined;
  state.unfinished.splice(at, 1);
  if (at > 0) return undefined;
  return state.unfinished[0] ?? state.nextExpected;
}

/** The partition went to another member: nothing queued here may start or commit any more. */
export function forgetQueued(state: PartitionState): void {
  state.owned = false;
  state.epoch++;
  state.queue.length = 0;
  state.unfinished.length = 0;
  state.nextExpected = undefined;
}
