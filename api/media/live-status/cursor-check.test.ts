import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../../../contracts/errors.ts';
import { parseCursor } from './cursor.ts';
import { checkCursor } from './cursor-check.ts';
import type { VariantRow } from './reads.ts';

const variant = (quality: string, format = 'webp'): VariantRow => ({
  mediaId: 'm',
  quality,
  format,
  objectKey: `derived/m/${quality}.${format}`,
  width: 10,
  height: 10,
  bytes: 100,
  createdAt: new Date(0),
});
const variants = ['high', 'low', 'medium', 'thumbnail'].map((q) => variant(q));
const processing = [
  { id: 11, toStatus: 'awaiting_upload' },
  { id: 12, toStatus: 'processing' },
];
const ready = [...processing, { id: 13, toStatus: 'ready' }];
const check = (id: string, transitions = ready, rows = variants) => {
  const cursor = parseCursor(id);
  assert.ok(cursor);
  checkCursor(cursor, transitions, rows);
};
const refused = (id: string, transitions = ready, rows = variants) =>
  assert.throws(
    () => check(id, transitions, rows),
    (e) => e instanceof AppError && e.code === 'validation_failed',
    id,
  );

test('every id the stream of a ready image sent resumes', () => {
  for (const id of ['11', '12', '12.thumbnail', '12.medium,thumbnail', '13.high,low,medium,thumbnail'])
    check(id);
  // Sent before the end while the media was processing; and an end that is not ready carries what was seen.
  check('12.low', processing);
  check('14.low', [...ready, { id: 14, toStatus: 'deleted' }]);
  check('13.low', [...ready, { id: 14, toStatus: 'deleted' }]);
});

test('an id naming a move of another media, or 0, is one this stream never sent', () => {
  for (const id of ['0', '1', '3', '14', '10.low']) refused(id);
});

test('a rendition the media does not have, or an AVIF sibling never announced alone, is refused', () => {
  refused('12.bogus');
  refused('12.bogus,thumbnail');
  refused('12.high-avif', ready, [...variants, variant('high-avif', 'avif')]);
});

test("at a ready that is the media's last move, the id names every rendition ready announced", () => {
  refused('13');
  refused('13.high,low,medium');
});
