export interface CircuitBreakerOptions {
  /** Consecutive failed vendor calls that open the circuit. */
  failureThreshold?: number;
  /** How long the circuit stays open before one trial call may go through. */
  cooldownMs?: number;
  now?: () => number;
}

export type CircuitState = 'closed' | 'open' | 'half-open';

/**
 * Stops calling a vendor that keeps failing, so an outage costs each upload a fast 503 instead of a string
 * of timeouts, and the vendor gets room to recover. After the cool-down exactly one trial call goes
 * through (half-open): success closes the circuit, failure opens it for another cool-down.
 */
export class CircuitBreaker {
  readonly #threshold: number;
  readonly #cooldownMs: number;
  readonly #now: () => number;
  #state: CircuitState = 'closed';
  #failures = 0;
  #openedAt = 0;

  constructor(options: CircuitBreakerOptions = {}) {
    this.#threshold = options.failureThreshold ?? 5;
    this.#cooldownMs = options.cooldownMs ?? 30_000;
    this.#now = options.now ?? Date.now;
  }

  get state(): CircuitState {
    return this.#state;
  }

  /** Whether a call may go out now; the caller must then report it with succeeded() or failed(). */
  tryAcquire(): boolean {
    if (this.#state === 'closed') return true;
    if (this.#state === 'open' && this.#now() - this.#openedAt >= this.#cooldownMs) {
      this.#state = 'half-open';
      return true;
    }
    return false;
  }

  succeeded(): void {
    this.#state = 'closed';
    this.#failures = 0;
  }

  failed(): void {
    this.#failures += 1;
    if (this.#state === 'half-open' || this.#failures >= this.#threshold) {
      this.#state = 'open';
      this.#openedAt = this.#now();
    }
  }

  /** Until a call may be tried again: the rest of the cool-down, or 0 when calls may go now. */
  retryAfterMs(): number {
    if (this.#state === 'closed') return 0;
    // The trial call settles within one call's timeout; asking again soon finds the circuit closed or open.
    if (this.#state === 'half-open') return Math.min(this.#cooldownMs, 1000);
    return Math.max(0, this.#openedAt + this.#cooldownMs - this.#now());
  }
}
