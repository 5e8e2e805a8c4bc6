/**
 * Retry caps after the 1st, 2nd… failed attempt, in units of the configured base (5 s by default): 5 s,
 * 5 min, 30 min, 2 h, 5 h, then 10 h for every further attempt — Svix's schedule. Each delay is drawn
 * with full jitter, uniformly in (0, cap], so retries of many deliveries that failed together spread out
 * instead of arriving at a recovering receiver at once.
 */
const capsInBase = [1, 60, 360, 1440, 3600, 7200] as const;

/**
 * A delivery keeps retrying until a failed attempt happens this long (in base units: 24 h at 5 s) after the
 * delivery was created; then it is `failed`. Judging by age, not by count, makes the span hold whatever
 * the jitter drew.
 */
export const retrySpanInBase = 17_280;

export function retryCapMs(failedAttempts: number, baseMs: number): number {
  const index = Math.min(Math.max(failedAttempts, 1), capsInBase.length) - 1;
  return (capsInBase[index] as number) * baseMs;
}

/** Delay before the next attempt; `random` in [0, 1) (injectable for tests). */
export function retryDelayMs(failedAttempts: number, baseMs: number, random = Math.random()): number {
  const cap = retryCapMs(failedAttempts, baseMs);
  return Math.max(1, Math.ceil((1 - random) * cap));
}

export function retriesExhausted(createdAt: Date, now: Date, baseMs: number): boolean {
  return now.getTime() - createdAt.getTime() >= retrySpanInBase * baseMs;
}
