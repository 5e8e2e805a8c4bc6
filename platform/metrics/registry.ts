import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * Roles that share a process (`mediagate dev`) share one registry, and a metric may be asked for by more
 * than one of them: the first registers it, the others get the same one.
 */
export function counter(registry: Registry, name: string, help: string, labelNames: string[] = []): Counter {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter;
  return new Counter({ name, help, labelNames, registers: [registry] });
}

export function histogram(
  registry: Registry,
  name: string,
  help: string,
  labelNames: string[],
  buckets: number[],
): Histogram {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Histogram;
  return new Histogram({ name, help, labelNames, buckets, registers: [registry] });
}

export function gauge(registry: Registry, name: string, help: string, labelNames: string[] = []): Gauge {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Gauge;
  return new Gauge({ name, help, labelNames, registers: [registry] });
}

/** A gauge whose value is computed at scrape time; a failing computation leaves the last value. */
export function computedGauge(
  registry: Registry,
  name: string,
  help: string,
  compute: () => Promise<number>,
): void {
  if (registry.getSingleMetric(name)) return;
  new Gauge({
    name,
    help,
    registers: [registry],
    async collect() {
      try {
        this.set(await compute());
      } catch {
        // A scrape while the database is down must still answer; the outage shows in other metrics.
      }
    },
  });
}

/**
 * One reading for the several gauges a scrape collects together (they are collected one after another in the
 * same tick): the query runs once per scrape, and a failed one leaves every gauge at its last value.
 */
export function sharedReading<T>(read: () => Promise<T>): () => Promise<T | undefined> {
  let last: Promise<T | undefined> | undefined;
  return () => {
    last ??= read()
      .catch(() => undefined)
      .finally(() => setImmediate(() => (last = undefined)));
    return last;
  };
}

/** Seconds: from a fast cache hit to a slow vendor or storage round trip. */
export const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Seconds: background work, from a small image job to a long transcode. */
export const jobBuckets = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 1800];

export const databaseUnavailableMetric = 'mediagate_database_unavailable_responses_total';
