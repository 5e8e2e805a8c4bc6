export interface ScrapeCacheOptions {
  /** A value this fresh is answered without asking again. */
  maxAgeMs: number;
  /** How long a scrape waits for a refresh before answering with what it has. */
  waitMs: number;
}

/**
 * A reading of a remote system (the broker's offsets, the dead-letter queues) taken at scrape time and kept
 * for a while: Prometheus servers scraping every few seconds, in pairs, cost the remote one reading per
 * `maxAgeMs`, and a slow remote never holds a scrape past `waitMs`. A failed reading yields undefined, so
 * the series disappear rather than show a stale value as current.
 */
export function scrapeCache<T>(
  read: () => Promise<T>,
  options: ScrapeCacheOptions,
): () => Promise<T | undefined> {
  let value: T | undefined;
  let readAt = Number.NEGATIVE_INFINITY;
  let reading: Promise<void> | undefined;
  return async () => {
    if (!reading && Date.now() - readAt >= options.maxAgeMs) {
      reading = read().then(
        (fresh) => {
          value = fresh;
        },
        () => {
          value = undefined;
        },
      );
      void reading.finally(() => {
        readAt = Date.now();
        reading = undefined;
      });
    }
    if (reading) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([reading, new Promise((resolve) => (timer = setTimeout(resolve, options.waitMs)))]);
      clearTimeout(timer);
    }
    return value;
  };
}
