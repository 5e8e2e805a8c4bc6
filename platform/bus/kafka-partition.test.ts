import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KafkaMessage } from 'kafkajs';
import {
  createPartitionState,
  finishRecord,
  keyOf,
  nextStartable,
  queueRecords,
  takeQueued,
} from './kafka-partition.ts';

const record = (offset: number, key: string | null): KafkaMessage =>
  ({
    offset: String(offset),
    key: key === null ? null : Buffer.from(key),
    value: null,
    headers: {},
  }) as KafkaMessage;

test('the next record to start is the first whose key has nothing running or queued before it', () => {
  const state = createPartitionState('t', 0);
  queueRecords(state, [record(0, 'a'), record(1, 'a'), record(2, 'b'), record(3, null), record(4, null)]);
  state.busyKeys.add(keyOf(takeQueued(state, nextStartable(state))));
  assert.equal(state.queue[nextStartable(state)]?.offset, '2', "a's second record waits for its first");
  state.busyKeys.add('b');
  assert.equal(state.queue[nextStartable(state)]?.offset, '3', 'keyless records have no order to keep');
  state.busyKeys.add(keyOf(takeQueued(state, nextStartable(state))));
  assert.equal(state.queue[nextStartable(state)]?.offset, '4');
});

test('the commit point stops at the first unfinished record and jumps past what finished behind it', () => {
  const state = createPartitionState('t', 0);
  queueRecords(state, [record(10, 'a'), record(11, 'b'), record(12, 'c')]);
  queueRecords(state, [record(11, 'b'), record(12, 'c'), record(13, 'd')]);
  assert.deepEqual(state.unfinished, [10n, 11n, 12n, 13n], 'a refetch queues nothing twice');
  assert.equal(finishRecord(state, 12n), undefined);
  assert.equal(finishRecord(state, 11n), undefined);
  assert.equal(finishRecord(state, 10n), 13n);
  assert.equal(finishRecord(state, 13n), 14n);
  assert.equal(finishRecord(state, 13n), undefined, 'finishing twice moves nothing');
});
