import type { RetryOptions } from 'kafkajs';

/**
 * kafkajs retry settings: exponential backoff from 100 ms that never waits longer than `maxDelayMs`. Its default
 * grows to 30 s, so a client could sleep that long after the broker is back; a short cap costs a few refused
 * connections a second while the broker is away.
 */
export function reconnecting(maxDelayMs: number, retries: number): RetryOptions {
  return { initialRetryTime: Math.min(100, maxDelayMs), maxRetryTime: maxDelayMs, retries };
}

const connectionFailures = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSBrokerNotFound',
  'KafkaJSNumberOfRetriesExceeded',
]);

/** True when kafkajs failed for want of a broker (anywhere in the cause chain), not because it refused the request. */
export function lostConnection(error: unknown): boolean {
  for (let e = error; e instanceof Error; e = e.cause) {
    if (connectionFailures.has(e.name) || (e as { retriable?: boolean }).retriable === true) return true;
  }
  return false;
}
