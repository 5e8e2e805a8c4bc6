import { Gauge, type Registry } from 'prom-client';
import type { BusBacklog } from '../bus/backlog.ts';
import type { DeadLetterAdmin } from '../bus/dead-letters.ts';
import { type ScrapeCacheOptions, scrapeCache } from './scrape-cache.ts';

export const consumerLagMetric = 'mediagate_bus_consumer_lag_messages';
export const deadLetterMetric = 'mediagate_bus_dead_letter_messages';

/**
 * Consumer lag per group and partition, and dead letters waiting per group, read from the bus at scrape
 * time. Registered by the api role only: one reading per fleet is enough, and only the api holds the
 * operator view of the dead-letter queues. Every group that has lag rows also gets a dead-letter series
 * (0 when empty), so "no dead letters" is a value, not a missing series.
 */
export function registerBusGauges(
  registry: Registry,
  bus: BusBacklog & DeadLetterAdmin,
  topics: readonly string[],
  cache: ScrapeCacheOptions = { maxAgeMs: 10_000, waitMs: 3_000 },
): void {
  if (registry.getSingleMetric(consumerLagMetric)) return;
  const reading = scrapeCache(async () => {
    const lag = await bus.consumerLag(topics);
    const dead = new Map<string, { topic: string; group: string; messages: number }>();
    for (const row of lag) dead.set(`${row.topic}\0${row.group}`, { ...row, messages: 0 });
    for (const topic of topics) {
      for (const letter of await bus.listDeadLetters(topic, { limit: Number.MAX_SAFE_INTEGER })) {
        const key = `${topic}\0${letter.group}`;
        const entry = dead.get(key) ?? { topic, group: letter.group, messages: 0 };
        entry.messages += 1;
        dead.set(key, entry);
      }
    }
    return { lag, dead: [...dead.values()] };
  }, cache);

  new Gauge({
    name: consumerLagMetric,
    help: 'Messages a consumer group has yet to take from a topic partition (retry topics excluded)',
    labelNames: ['topic', 'group', 'partition'],
    registers: [registry],
    async collect() {
      const now = await reading();
      this.reset();
      for (const row of now?.lag ?? []) {
        this.set({ topic: row.topic, group: row.group, partition: String(row.partition) }, row.messages);
      }
    },
  });
  new Gauge({
    name: deadLetterMetric,
    help: 'Dead-lettered messages not yet redriven, per topic and the consumer group that gave up on them',
    labelNames: ['topic', 'group'],
    registers: [registry],
    async collect() {
      const now = await reading();
      this.reset();
      for (const row of now?.dead ?? []) this.set({ topic: row.topic, group: row.group }, row.messages);
    },
  });
}
