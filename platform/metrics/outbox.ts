import { Gauge, type Registry } from 'prom-client';
import { counter, sharedReading } from './registry.ts';

export interface OutboxBacklog {
  /** Rows committed and not yet published. */
  events: number;
  /** Age of the oldest of them; 0 when there are none. */
  oldestAgeSeconds: number;
}

/**
 * The outbox's backlog, read from PostgreSQL at each scrape (one indexed query over unpublished rows). The
 * oldest row's age is what to alert on: a relay that stopped shows as a growing age before the count grows.
 */
export function registerOutboxGauges(registry: Registry, read: () => Promise<OutboxBacklog>): void {
  if (registry.getSingleMetric('mediagate_outbox_backlog_events')) return;
  const reading = sharedReading(read);
  new Gauge({
    name: 'mediagate_outbox_backlog_events',
    help: 'Outbox rows committed and not yet published to the bus',
    registers: [registry],
    async collect() {
      const now = await reading();
      if (now) this.set(now.events);
    },
  });
  new Gauge({
    name: 'mediagate_outbox_oldest_unpublished_age_seconds',
    help: 'Age of the oldest unpublished outbox row (0 when none): how late the relay is',
    registers: [registry],
    async collect() {
      const now = await reading();
      if (now) this.set(now.oldestAgeSeconds);
    },
  });
}

/** What the outbox relay reports after each send. */
export interface RelayMetrics {
  published(topic: string, events: number): void;
  failed(events: number): void;
}

export function relayMetrics(registry: Registry): RelayMetrics {
  const published = counter(
    registry,
    'mediagate_relay_published_events_total',
    'Outbox events the relay published and the bus acknowledged, by topic',
    ['topic'],
  );
  const failed = counter(
    registry,
    'mediagate_relay_publish_failures_total',
    'Outbox events whose publish failed (retried by the relay)',
  );
  return {
    published: (topic, events) => published.inc({ topic }, events),
    failed: (events) => failed.inc(events),
  };
}
