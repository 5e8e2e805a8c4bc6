import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BoundedCache } from './bounded-cache.ts';

test('when full, the least recently used entry makes room; the rest stay', () => {
  const cache = new BoundedCache<number>(3);
  for (const [key, value] of [
    ['a', 1],
    ['b', 2],
    ['c', 3],
  ] as const)
    cache.set(key, value, 1000);
  assert.equal(cache.get('a', 0), 1, 'a is now the most recently used');
  cache.set('d', 4, 1000);
  assert.equal(cache.get('b', 0), undefined, 'b was the least recently used');
  assert.deepEqual([cache.get('a', 0), cache.get('c', 0), cache.get('d', 0)], [1, 3, 4]);
  assert.equal(cache.size, 3);
});

test('an entry is gone from its expiry on, and frees its place', () => {
  const cache = new BoundedCache<string>(10);
  cache.set('k', 'v', 100);
  assert.equal(cache.get('k', 99), 'v');
  assert.equal(cache.get('k', 100), undefined);
  assert.equal(cache.size, 0);
});

test('a key read between insertions is never evicted, however many other keys pass through', () => {
  for (const size of [2, 3, 4, 100]) {
    const cache = new BoundedCache<number>(size);
    cache.set('hot', 0, 1000);
    for (let i = 0; i < size * 20; i++) {
      cache.set(`cold-${i}`, i, 1000);
      assert.equal(cache.get('hot', 0), 0, `size ${size}, after ${i + 1} insertions`);
    }
    assert.equal(cache.size, size);
    assert.equal(cache.get('cold-0', 0), undefined, 'the cold keys went first');
  }
});
