import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Bus, type BusMessage, type DeliveredMessage, JsonText, maxDeliveryAttempts } from './bus.ts';
import { type DeadLetterAdmin, redriveHeader } from './dead-letters.ts';

export interface BusUnderTest {
  bus: Bus & DeadLetterAdmin;
  /** Releases what `makeBus` set up besides the bus; the suite closes the bus itself. */
  cleanup(): Promise<void>;
}

export interface BusCapabilities {
  /** Messages with one key are handled in publish order. */
  perKeyOrder: boolean;
}

const timeout = 120_000;

/**
 * What every bus implementation promises through the port, asserted against a real one. Each test works on a
 * topic of its own, so implementations may share one server across the suite. Retry delays are assumed short
 * (the implementations take the base delay as an option).
 */
export function runBusContract(
  name: string,
  makeBus: () => Promise<BusUnderTest>,
  capabilities: BusCapabilities,
): void {
  const withBus = async (body: (bus: Bus & DeadLetterAdmin) => Promise<void>) => {
    const { bus, cleanup } = await makeBus();
    try {
      await body(bus);
    } finally {
      await bus.close();
      await cleanup();
    }
  };

  describe(`${name} bus contract`, () => {
    test('delivers every message once with id, key, type, payload and headers intact', { timeout }, () =>
      withBus(async (bus) => {
        const topic = uniqueTopic();
        const seen: DeliveredMessage[] = [];
        await bus.subscribe(topic, 'g', async (m) => {
          seen.push(m);
        });
        const sent = Array.from({ length: 20 }, (_, i) => message(i, `key-${i % 3}`));
        await bus.publish(topic, sent.slice(0, 10));
        // The rest as JSON text already, spaced as PostgreSQL prints jsonb: handlers see no difference.
        await bus.publish(
          topic,
          sent.slice(10).map((m) => ({ ...m, payload: asText(m.payload) })),
        );
        await waitFor(() => seen.length >= sent.length, 'all messages delivered');
        await sleep(1000); // a duplicate would arrive about now
        assert.equal(seen.length, sent.length);
        for (const m of sent) {
          // Where the bus has one (Kafka), the record's position rides along for tracing; it is not content.
          const { position: _position, ...delivered } = seen.find((s) => s.id === m.id) ?? {};
          assert.deepEqual(delivered, { ...m, topic, attempt: 1 });
        }
      }),
    );

    test('every group receives every message', { timeout }, () =>
      withBus(async (bus) => {
        const topic = uniqueTopic();
        const byGroup = { a: [] as string[], b: [] as string[] };
        for (const group of ['a', 'b'] as const) {
          await bus.subscribe(topic, group, async (m) => {
            byGroup[group].push(m.id);
          });
        }
        const sent = Array.from({ length: 10 }, (_, i) => message(i, `key-${i}`));
        await bus.publish(topic, sent);
        await waitFor(() => byGroup.a.length >= 10 && byGroup.b.length >= 10, 'both groups served');
        const ids = sent.map((m) => m.id).sort();
        assert.deepEqual([...byGroup.a].sort(), ids);
        assert.deepEqual([...byGroup.b].sort(), ids);
      }),
    );

    test(
      'retries a failing handler, dead-letters it after the last attempt without stalling the messages behind it, and redrives it',
      { timeout },
      () =>
        withBus(async (bus) => {
          const topic = uniqueTopic();
          const log: { id: string; attempt: number; headers: Record<string, string> }[] = [];
          let poisoned = true;
          const poison = message(0, 'same');
          const flaky = message(1, 'same');
          const behind = [2, 3, 4, 5].map((i) => message(i, 'same'));
          await bus.subscribe(topic, 'g', async (m) => {
            log.push({ id: m.id, attempt: m.attempt, headers: m.headers });
            if (m.id === poison.id && poisoned) throw new Error('poison pill');
            if (m.id === flaky.id && m.attempt < 3) throw new Error('flaky');
          });
          await bus.publish(topic, [poison, flaky, ...behind]);

          const attemptsOf = (id: string) => log.filter((e) => e.id === id).map((e) => e.attempt);
          await waitFor(
            () => attemptsOf(poison.id).length >= maxDeliveryAttempts,
            'all attempts of the poison',
          );
          assert.deepEqual(attemptsOf(flaky.id), [1, 2, 3], 'a retried message succeeds on a later attempt');
          const secondAttempt = log.findIndex((e) => e.id === poison.id && e.attempt === 2);
          for (const m of behind) {
            assert.deepEqual(attemptsOf(m.id), [1]);
            assert.ok(
              log.findIndex((e) => e.id === m.id) < secondAttempt,
              'messages behind a failing one are handled while it waits for its retry',
            );
          }

          const letters = await waitFor(async () => {
            const found = await bus.listDeadLetters(topic, { group: 'g' });
            return found.length > 0 ? found : undefined;
          }, 'the poison in the dead-letter queue');
          assert.deepEqual(attemptsOf(poison.id), [1, 2, 3, 4, 5], 'no attempt after the last one');
          assert.equal(letters.length, 1);
          const [letter] = letters as [(typeof letters)[number]];
          assert.deepEqual(letter.message, poison);
          assert.equal(letter.group, 'g');
          assert.equal(letter.attempts, maxDeliveryAttempts);
          assert.match(letter.error.message, /poison pill/);
          assert.deepEqual(await bus.listDeadLetters(topic, { group: 'other' }), []);

          poisoned = false;
          assert.equal(await bus.redrive(topic, { ids: [letter.id] }), 1);
          await waitFor(() => attemptsOf(poison.id).length > maxDeliveryAttempts, 'the redriven message');
          const redriven = log.at(-1);
          assert.equal(redriven?.attempt, 1, 'a redrive starts with fresh attempts');
          assert.deepEqual(redriven?.headers, { ...poison.headers, [redriveHeader]: letter.id });
          assert.deepEqual(
            await bus.listDeadLetters(topic),
            [],
            'a redriven dead letter is no longer pending',
          );
          await sleep(500);
          assert.equal(attemptsOf(poison.id).length, maxDeliveryAttempts + 1, 'a redrive is delivered once');
        }),
    );

    // Only a bus that promises per-key order is held to it (pg-boss does not).
    if (capabilities.perKeyOrder)
      test('keeps the order of messages with one key', { timeout }, () =>
        withBus(async (bus) => {
          const topic = uniqueTopic();
          const byKey = new Map<string, number[]>();
          await bus.subscribe(
            topic,
            'g',
            async (m) => {
              await sleep(Math.random() * 3); // uneven handler times would expose reordering
              const n = (m.payload as { n: number }).n;
              byKey.set(m.key, [...(byKey.get(m.key) ?? []), n]);
            },
            { concurrency: 4 },
          );
          const keys = ['ordered', 'other-1', 'other-2'];
          const sent = Array.from({ length: 300 }, (_, i) =>
            message(Math.floor(i / 3), keys[i % 3] as string),
          );
          for (let i = 0; i < sent.length; i += 30) await bus.publish(topic, sent.slice(i, i + 30));
          const total = () => [...byKey.values()].reduce((sum, ns) => sum + ns.length, 0);
          await waitFor(() => total() >= sent.length, 'all messages delivered');
          const expected = Array.from({ length: 100 }, (_, i) => i);
          for (const key of keys) assert.deepEqual(byKey.get(key), expected, `order of ${key}`);
        }),
      );

    test('close() waits for the running handler and stops delivery; the group resumes where it left off', {
      timeout,
    }, async () => {
      const topic = uniqueTopic();
      const slow = message(0, 'k');
      const later = message(1, 'k');
      const seen: string[] = [];
      let finished = false;
      const first = await makeBus();
      try {
        await first.bus.subscribe(topic, 'g', async (m) => {
          seen.push(m.id);
          await sleep(1500);
          finished = true;
        });
        await first.bus.publish(topic, [slow]);
        await waitFor(() => seen.length > 0, 'the slow message started');
      } finally {
        await first.bus.close();
        await first.cleanup();
      }
      assert.ok(finished, 'close() returned before the handler finished');

      await withBus(async (bus) => {
        await bus.publish(topic, [later]);
        await sleep(1500);
        assert.deepEqual(seen, [slow.id], 'a closed bus delivers nothing');
        const resumed: string[] = [];
        await bus.subscribe(topic, 'g', async (m) => {
          resumed.push(m.id);
        });
        await waitFor(() => resumed.length > 0, 'the message published while the group was away');
        await sleep(1000);
        assert.deepEqual(resumed, [later.id], 'the finished message is not delivered again');
      });
    });
  });
}

function uniqueTopic(): string {
  return `contract.${randomUUID().slice(0, 8)}`;
}

const asText = (payload: unknown) => new JsonText(JSON.stringify(payload, null, 1));

function message(n: number, key: string): BusMessage {
  return {
    id: randomUUID(),
    key,
    type: 'contract.tested',
    payload: { n, text: 'naïve ✓', nested: { list: [1, null, true] } },
    headers: {
      'schema-version': '1',
      traceparent: `00-${randomUUID().replaceAll('-', '')}-${'0'.repeat(15)}1-01`,
      'x-custom': 'kept',
    },
  };
}

/** Polls until `check` returns something truthy and returns it; fails after `ms`. */
async function waitFor<T>(check: () => T | Promise<T>, what: string, ms = 60_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
