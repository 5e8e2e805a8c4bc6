import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * Roles that share a process (`mediagate dev`) share one registry, and a metric may be asked for by more
 * than one of them: the first registers it, the others get the same one.
 */
export function counter(registry: Registry, name: string, help: string, labelNames: string[] = []): Counter {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter;
  return new Counter({ name, help, labelNames, registers: [registry] });
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

export const databaseUnavailableMetric = 'mediagate_database_unavailable_responses_total';
