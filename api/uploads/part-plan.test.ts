import assert from 'node:assert/strict';
import { test } from 'node:test';
import { maxParts, minPartBytes, partLength, planParts } from './part-plan.ts';

const mib = 1024 * 1024;

test('a small file is one part', () => {
  assert.deepEqual(planParts(300_000, 8 * mib), { partSize: 5 * mib, partCount: 1 });
});

test('parts follow the preferred size and the last one holds the rest', () => {
  assert.deepEqual(planParts(20 * mib + 1, 8 * mib), { partSize: 8 * mib, partCount: 3 });
});

test('a 20 GB video stays within 10,000 parts of at least 5 MiB', () => {
  const plan = planParts(20 * 1024 ** 3, 5 * mib);
  assert.ok(plan.partCount <= maxParts);
  assert.ok(plan.partSize >= minPartBytes);
  assert.ok(plan.partSize * plan.partCount >= 20 * 1024 ** 3);
});

test('every part URL is signed for its own length: full parts, then the remainder', () => {
  const size = 20 * mib + 1;
  const { partSize, partCount } = planParts(size, 8 * mib);
  const lengths = Array.from({ length: partCount }, (_, i) => partLength(size, partSize, i + 1));
  assert.deepEqual(lengths, [8 * mib, 8 * mib, 4 * mib + 1]);
  assert.equal(partLength(1000, planParts(1000, 8 * mib).partSize, 1), 1000);
});
