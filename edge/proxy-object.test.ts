import assert from 'node:assert/strict';
import { test } from 'node:test';
import { byteRange } from './proxy-object.ts';

test('a player’s ranges: first, open-ended, suffix; clamped to the object and to one 8 MiB window', () => {
  assert.deepEqual(byteRange('bytes=0-99', 1000), { start: 0, end: 99 });
  assert.deepEqual(byteRange('bytes=900-', 1000), { start: 900, end: 999 });
  assert.deepEqual(byteRange('bytes=-100', 1000), { start: 900, end: 999 });
  assert.deepEqual(byteRange('bytes=0-5000', 1000), { start: 0, end: 999 });
  assert.deepEqual(byteRange('bytes=0-', 100 * 1024 * 1024), { start: 0, end: 8 * 1024 * 1024 - 1 });
});

test('valid ranges that name no byte are unsatisfiable, never a 5xx', () => {
  for (const header of ['bytes=1000-', 'bytes=-0', 'bytes=99999999999999999999-'])
    assert.equal(byteRange(header, 1000), 'unsatisfiable', header);
  assert.equal(byteRange('bytes=0-', 0), 'unsatisfiable');
});

test('a header that is not one valid byte range is ignored (undefined: the whole object)', () => {
  for (const header of ['bytes=5-2', 'bytes=-', 'bytes=0-1,5-9', 'items=0-1', 'bytes=abc'])
    assert.equal(byteRange(header, 1000), undefined, header);
});
