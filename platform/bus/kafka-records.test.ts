import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KafkaMessage } from 'kafkajs';
import { type BusMessage, JsonText } from './bus.ts';
import {
  deadLetterRecord,
  fromRecord,
  type Headers,
  header,
  readHeaders,
  retryDelayMs,
  retryRecord,
  toRecord,
} from './kafka-records.ts';

const message: BusMessage = {
  id: 'e-1',
  key: 'media-1',
  type: 'optimize.requested',
  payload: { mediaId: 'media-1', sizes: [1, 2] },
  headers: { 'schema-version': '1', traceparent: '00-abc-def-01' },
};

/** What a consumer gets back for a produced record. */
function fetched(produced: ReturnType<typeof toRecord>, offset = '7'): KafkaMessage {
  const headers = Object.fromEntries(
    Object.entries(produced.headers ?? {}).map(([k, v]) => [k, Buffer.from(String(v))]),
  );
  return {
    key: Buffer.from(String(produced.key)),
    value: produced.value === null || produced.value === undefined ? null : Buffer.from(produced.value),
    headers,
    offset,
    timestamp: '0',
    attributes: 0,
  };
}

test('a record round-trips the message and hides the bus headers', () => {
  const record = fetched(toRecord(message));
  const headers = readHeaders(record.headers);
  assert.equal(headers[header.eventId], 'e-1');
  assert.deepEqual(fromRecord('optimize.request', record, headers), {
    ...message,
    topic: 'optimize.request',
    attempt: 1,
  });
});

test('a payload given as JSON text is the record value as it is, and read back as the value it spells', () => {
  // As PostgreSQL prints a jsonb value: spaces after separators, keys in its own order.
  const text = '{"sizes": [1, 2], "mediaId": "media-1", "note": "caf\u00e9 \\"ok\\""}';
  const record = toRecord({ ...message, payload: new JsonText(text) });
  assert.equal(record.value, text);
  const fetchedRecord = fetched(record);
  assert.deepEqual(
    fromRecord('optimize.request', fetchedRecord, readHeaders(fetchedRecord.headers)).payload,
    {
      sizes: [1, 2],
      mediaId: 'media-1',
      note: 'café "ok"',
    },
  );
});

test('the bus headers win over message headers of the same name', () => {
  const record = toRecord({ ...message, headers: { ...message.headers, 'event-id': 'forged' } });
  assert.equal(record.headers?.[header.eventId], 'e-1');
});

test('a retry copy carries the next attempt, its due time, its group and where the message came from', () => {
  const original = fetched(toRecord(message));
  const at = { topic: 'media.optimize.request', partition: 2, offset: '7' };
  const first = retryRecord(original, readHeaders(original.headers), {
    attempt: 2,
    notBefore: 1000,
    group: 'worker',
    at,
  });
  const again = fetched(first, '0');
  const second = retryRecord(again, readHeaders(again.headers), {
    attempt: 3,
    notBefore: 3000,
    group: 'worker',
    at: { topic: 'media.optimize.request.retry.1', partition: 0, offset: '0' },
  });
  const headers = second.headers as Headers;
  assert.equal(headers[header.attempt], '3');
  assert.equal(headers[header.notBefore], '3000');
  assert.equal(headers[header.group], 'worker');
  assert.deepEqual(
    [headers[header.originalTopic], headers[header.originalPartition], headers[header.originalOffset]],
    ['media.optimize.request', '2', '7'],
  );
  assert.deepEqual(second.value, original.value);
  const delivered = fromRecord('optimize.request', fetched(second), headers);
  assert.equal(delivered.attempt, 3);
  assert.deepEqual(delivered.headers, message.headers);
});

test('a dead letter says why, after how many attempts, and drops the retry scheduling', () => {
  const original = fetched(toRecord(message));
  const error = new Error('x'.repeat(5000));
  const dead = deadLetterRecord(
    original,
    { ...readHeaders(original.headers), attempt: '5', 'not-before': '1' },
    {
      attempts: 5,
      group: 'worker',
      error,
      at: { topic: 't.retry.4', partition: 1, offset: '3' },
    },
  );
  const headers = dead.headers as Headers;
  assert.equal(headers[header.attempts], '5');
  assert.equal(headers[header.group], 'worker');
  assert.equal(headers[header.errorMessage]?.length, 1000);
  assert.ok((headers[header.errorStack]?.length ?? 0) <= 4000);
  assert.equal(headers[header.attempt], undefined);
  assert.equal(headers[header.notBefore], undefined);
  assert.equal(headers[header.originalTopic], 't.retry.4');
});

test('a record without the bus headers is refused', () => {
  const record = fetched({ key: 'k', value: '{}', headers: {} });
  assert.throws(() => fromRecord('t', record, readHeaders(record.headers)), /event-id/);
});

test('retry delays double from the base and are capped', () => {
  assert.deepEqual(
    [1, 2, 3, 4].map((n) => retryDelayMs(1000, n)),
    [1000, 2000, 4000, 8000],
  );
  assert.equal(retryDelayMs(10 * 60_000, 4), 15 * 60_000);
});

test('a header named like an Object.prototype member is read as a header, not dropped or inherited', () => {
  const headers = readHeaders({ ['__proto__']: Buffer.from('x'), constructor: Buffer.from('y') });
  assert.equal(Object.hasOwn(headers, '__proto__'), true);
  assert.equal(headers.constructor, 'y');
  assert.equal(readHeaders({}).constructor, undefined);
});
