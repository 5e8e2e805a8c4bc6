import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import type { Subscription } from '../platform/bus/bus.ts';
import { createReadiness } from '../platform/health/readiness.ts';
import { consumeInBackground } from './background-consumer.ts';

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100 && !(await check()); i++) await new Promise((r) => setTimeout(r, 10));
}

test('a consumer is not ready until it joins, then reports its membership live without leaving the balancer', async () => {
  const readiness = createReadiness();
  let membership: 'joining' | 'member' | 'down' = 'member';
  let join: (s: Subscription) => void = () => {};
  const joined = new Promise<Subscription>((resolve) => {
    join = resolve;
  });
  const consumer = consumeInBackground(
    'results consumer',
    readiness,
    pino({ level: 'silent' }),
    () => joined,
  );

  const before = await readiness.report();
  assert.equal(before.ready, false);
  assert.match(before.checks['results consumer']?.detail ?? '', /joining/);

  join({ stop: async () => {}, state: () => membership });
  await until(async () => (await readiness.report()).ready);
  assert.deepEqual((await readiness.report()).checks['results consumer'], { ok: true });

  membership = 'down';
  const during = await readiness.report();
  assert.equal(during.ready, true, 'a broker outage must not make the role unready');
  assert.match(during.checks['results consumer']?.detail ?? '', /down/);
  await consumer.stop();
});
