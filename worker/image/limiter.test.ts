import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLimiter } from './limiter.ts';

/** A task that records how many ran beside it, and finishes when told. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

test('no more than the limit run at once; the rest start in the order they asked', async () => {
  const limit = createLimiter(2);
  let running = 0;
  let most = 0;
  const started: number[] = [];
  const gates = Array.from({ length: 5 }, gate);
  const tasks = gates.map((g, i) =>
    limit(async () => {
      started.push(i);
      running++;
      most = Math.max(most, running);
      await g.opened;
      running--;
      return i;
    }),
  );
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(started, [0, 1]);
  for (const g of [...gates].reverse()) g.open();
  assert.deepEqual(await Promise.all(tasks), [0, 1, 2, 3, 4]);
  assert.deepEqual(started, [0, 1, 2, 3, 4]);
  assert.equal(most, 2);
});

test('a task that fails gives its slot to the next and its error to its caller', async () => {
  const limit = createLimiter(1);
  const failing = limit(async () => {
    throw new Error('encode failed');
  });
  const next = limit(async () => 'encoded');
  await assert.rejects(failing, /encode failed/);
  assert.equal(await next, 'encoded');
});
