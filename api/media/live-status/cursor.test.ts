import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../../../contracts/errors.ts';
import { formatCursor, parseCursor } from './cursor.ts';

test('a cursor survives its text form: the id a stream sends is the id it resumes from', () => {
  for (const text of ['0', '42', '42.low', '7.hls,low,medium,poster,thumbnail-003']) {
    const cursor = parseCursor(text);
    assert.ok(cursor);
    assert.equal(formatCursor(cursor), text);
  }
  assert.equal(formatCursor({ eventId: 3, qualities: new Set(['poster', 'low']) }), '3.low,poster');
  assert.equal(parseCursor(undefined), undefined);
  assert.equal(parseCursor(''), undefined, 'EventSource sends no id before its first one');
});

test('crafted ids are a 400, never a number the database cannot hold', () => {
  const crafted = [
    '-1',
    '1e3',
    '01',
    '0x10',
    ' 1',
    '1 ',
    '99999999999999999',
    '9007199254740993',
    '1.',
    '1.low,',
    '1.lo w',
    '1.low;drop',
    `1.${'q'.repeat(65)}`,
    `1.${Array.from({ length: 257 }, (_, i) => `q${i}`).join(',')}`,
    '１２',
    '12.high,high',
    '12.low,high',
  ];
  for (const text of crafted) {
    assert.throws(
      () => parseCursor(text),
      (e) => e instanceof AppError && e.code === 'validation_failed',
      text,
    );
  }
});
