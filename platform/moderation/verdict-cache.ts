import type { Moderator, Verdict } from './moderation.ts';

/**
 * Verdicts by content hash, so the same bytes are judged once: a second upload of the same content, or a
 * completion retried after a later step failed, does not pay the vendor again. Only final verdicts
 * (allow, reject) are stored; a pending one is settled by the vendor's webhook.
 */
export interface VerdictCache {
  get(contentHash: string): Promise<Verdict | undefined>;
  put(contentHash: string, verdict: Verdict): Promise<void>;
}

/** Per process, least recently used first out; a shared cache (Postgres) implements the same interface. */
export class InMemoryVerdictCache implements VerdictCache {
  readonly #entries = new Map<string, Verdict>();
  readonly #maxEntries: number;

  constructor(maxEntries = 10_000) {
    this.#maxEntries = maxEntries;
  }

  async get(contentHash: string): Promise<Verdict | undefined> {
    const verdict = this.#entries.get(contentHash);
    if (verdict) {
      this.#entries.delete(contentHash);
      this.#entries.set(contentHash, verdict);
    }
    return verdict;
  }

  async put(contentHash: string, verdict: Verdict): Promise<void> {
    this.#entries.delete(contentHash);
    this.#entries.set(contentHash, verdict);
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.#maxEntries) break;
      this.#entries.delete(oldest);
    }
  }
}

export interface CachedModeratorOptions {
  /** A cache that fails must not fail moderation; it is reported here and the vendor is asked instead. */
  onCacheError?: (error: unknown) => void;
}

/**
 * Consults the cache before the vendor, stores final verdicts after, and shares one vendor call between
 * concurrent judgements of the same media and content (a completion retried while the first still runs).
 * Different media are not joined: a pending verdict belongs to the media the vendor job was opened for.
 */
export function cachedModerator(
  moderator: Moderator,
  cache: VerdictCache,
  options: CachedModeratorOptions = {},
): Moderator {
  const inFlight = new Map<string, Promise<Verdict>>();
  const report = options.onCacheError ?? (() => {});

  const judgeAndStore: Moderator['judge'] = async (input, judgeOptions) => {
    const cached = await cache.get(input.contentHash).catch((error: unknown) => {
      report(error);
      return undefined;
    });
    if (cached) return cached;
    const verdict = await moderator.judge(input, judgeOptions);
    if (verdict.decision !== 'pending') await cache.put(input.contentHash, verdict).catch(report);
    return verdict;
  };

  return {
    name: moderator.name,
    judge(input, judgeOptions) {
      const key = `${input.mediaId}\n${input.contentHash}`;
      const running = inFlight.get(key);
      if (running) return running;
      const judging = judgeAndStore(input, judgeOptions).finally(() => inFlight.delete(key));
      inFlight.set(key, judging);
      return judging;
    },
  };
}
