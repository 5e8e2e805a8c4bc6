import type { Metric, Registry } from 'prom-client';

/**
 * A histogram with one label whose values are known up front, for a path that answers tens of thousands of
 * requests a second: an observation is a bucket search and three additions. prom-client's `observe` rebuilds
 * and hashes the label set on every call, even on a label child; here that work moves to the scrape.
 */
export class HotHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum' as const;
  readonly labelNames: readonly string[];
  readonly #label: string;
  readonly #bounds: readonly number[];
  readonly #series = new Map<string, Series>();

  constructor(options: { name: string; help: string; label: string; buckets: readonly number[] }) {
    this.name = options.name;
    this.help = options.help;
    this.#label = options.label;
    this.labelNames = [options.label];
    this.#bounds = [...options.buckets].sort((a, b) => a - b);
  }

  /** The recorder for one label value: call it with seconds. */
  series(value: string): (seconds: number) => void {
    let series = this.#series.get(value);
    if (series === undefined) {
      series = { counts: new Float64Array(this.#bounds.length + 1), sum: 0, count: 0 };
      this.#series.set(value, series);
    }
    const s = series;
    const bounds = this.#bounds;
    return (seconds) => {
      let i = 0;
      while (i < bounds.length && seconds > (bounds[i] as number)) i++;
      s.counts[i] = (s.counts[i] as number) + 1;
      s.sum += seconds;
      s.count++;
    };
  }

  /** What the registry prints, in prom-client's shape. */
  get() {
    const values: SeriesValue[] = [];
    for (const [value, s] of this.#series) {
      if (s.count === 0) continue;
      let cumulative = 0;
      this.#bounds.forEach((bound, i) => {
        cumulative += s.counts[i] as number;
        values.push({
          metricName: `${this.name}_bucket`,
          labels: { le: bound, [this.#label]: value },
          value: cumulative,
        });
      });
      values.push({
        metricName: `${this.name}_bucket`,
        labels: { le: '+Inf', [this.#label]: value },
        value: s.count,
      });
      values.push({ metricName: `${this.name}_sum`, labels: { [this.#label]: value }, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: { [this.#label]: value }, value: s.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    for (const s of this.#series.values()) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }

  /** Registers it, or returns the one a role sharing the process registered first. */
  static in(registry: Registry, options: ConstructorParameters<typeof HotHistogram>[0]): HotHistogram {
    const existing = registry.getSingleMetric(options.name);
    if (existing instanceof HotHistogram) return existing;
    const histogram = new HotHistogram(options);
    registry.registerMetric(histogram as unknown as Metric);
    return histogram;
  }
}

interface SeriesValue {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

interface Series {
  /** Per bucket, not cumulative; the last one is above every bound. */
  counts: Float64Array;
  sum: number;
  count: number;
}
