import { setTimeout as sleep } from 'node:timers/promises';
import type { ModerationMetrics } from '../metrics/moderation.ts';
import { CircuitBreaker } from './circuit-breaker.ts';
import {
  type ModerationInput,
  ModerationUnavailableError,
  ModerationVendorError,
  type Moderator,
} from './moderation.ts';

export interface ResilienceOptions {
  /** Bound on each vendor call; the call is aborted when it passes. */
  timeoutMs?: number;
  /** Further attempts after the first, for transient failures only. */
  retries?: number;
  /** Backoff before retry n is a random wait in [0, min(maxDelayMs, baseDelayMs · 2ⁿ)] ("full jitter"). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** What the client is told to wait when the vendor named no time and the circuit is closed. */
  retryAfterSeconds?: number;
  breaker?: CircuitBreaker;
  random?: () => number;
  /** Each vendor call's latency and outcome, each 503, and the breaker's state. */
  metrics?: ModerationMetrics;
}

class AttemptTimeout extends Error {
  override readonly name = 'AttemptTimeout';
}

/**
 * Wraps any Moderator with per-call timeouts, retries with full jitter for transient failures (network,
 * timeout, 429, 5xx; a Retry-After the gate can afford is honoured), and a circuit breaker. When the vendor
 * cannot answer, judge() throws ModerationUnavailableError with the time the client should wait; failures
 * that retrying cannot fix (bad credentials, an unreadable reply, a bug) are thrown as they are.
 */
export function resilient(moderator: Moderator, options: ResilienceOptions = {}): Moderator {
  const timeoutMs = options.timeoutMs ?? 2_500;
  const retries = options.retries ?? 2;
  const baseDelayMs = options.baseDelayMs ?? 100;
  const maxDelayMs = options.maxDelayMs ?? 1_000;
  const fallbackRetryAfter = options.retryAfterSeconds ?? 5;
  const breaker = options.breaker ?? new CircuitBreaker();
  const random = options.random ?? Math.random;
  const { metrics } = options;
  metrics?.watchCircuit(moderator.name, () => breaker.state);

  const unavailable = (message: string, vendorRetryAfter: number | undefined, cause?: unknown) => {
    metrics?.unavailable(moderator.name);
    const breakerWait = Math.ceil(breaker.retryAfterMs() / 1000);
    const seconds = Math.max(1, breakerWait > 0 ? breakerWait : (vendorRetryAfter ?? fallbackRetryAfter));
    return new ModerationUnavailableError(`${moderator.name}: ${message}`, seconds, { cause });
  };

  return {
    name: moderator.name,
    async judge(input) {
      for (let attempt = 0; ; attempt++) {
        if (!breaker.tryAcquire())
          throw unavailable(`circuit ${breaker.state}, not calling the vendor`, undefined);
        const started = performance.now();
        const outcome = await attemptWithTimeout(moderator, input, timeoutMs).then(
          (verdict) => ({ verdict }),
          (error: unknown) => ({ error }),
        );
        const seconds = (performance.now() - started) / 1000;
        if ('verdict' in outcome) {
          breaker.succeeded();
          metrics?.vendorCall(moderator.name, outcome.verdict.decision, seconds);
          return outcome.verdict;
        }
        const { error } = outcome;
        metrics?.vendorCall(moderator.name, isTransient(error) ? 'transient_error' : 'error', seconds);
        if (!isTransient(error)) {
          // Not an outage (the vendor answered, or our own code failed): nothing against the vendor's health.
          breaker.succeeded();
          throw error;
        }
        breaker.failed();
        const asked = error instanceof ModerationVendorError ? error.retryAfterSeconds : undefined;
        const reason = (error as Error).message;
        if (attempt >= retries || breaker.state === 'open') {
          throw unavailable(`gave up after ${attempt + 1} attempt(s): ${reason}`, asked, error);
        }
        // A synchronous completion cannot sit out a long Retry-After: hand it to the client instead.
        if (asked !== undefined && asked * 1000 > maxDelayMs) {
          throw unavailable(`vendor asked to wait ${asked} s: ${reason}`, asked, error);
        }
        await sleep(
          asked !== undefined ? asked * 1000 : fullJitterDelay(attempt, baseDelayMs, maxDelayMs, random),
        );
      }
    },
  };
}

export function fullJitterDelay(
  attempt: number,
  baseDelayMs: number,
  maxDelayMs: number,
  random = Math.random,
): number {
  return Math.floor(random() * Math.min(maxDelayMs, baseDelayMs * 2 ** attempt));
}

async function attemptWithTimeout(moderator: Moderator, input: ModerationInput, timeoutMs: number) {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new AttemptTimeout(`no verdict within ${timeoutMs} ms`)),
    timeoutMs,
  );
  // Racing the abort bounds even a moderator that ignores the signal; the signal frees the socket.
  const aborted = new Promise<never>((_, reject) => {
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
  });
  try {
    return await Promise.race([moderator.judge(input, { signal: controller.signal }), aborted]);
  } finally {
    clearTimeout(timer);
  }
}

function isTransient(error: unknown): boolean {
  return error instanceof AttemptTimeout || (error instanceof ModerationVendorError && error.retryable);
}
