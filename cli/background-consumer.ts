import { setTimeout as sleep } from 'node:timers/promises';
import type { Subscription } from '../platform/bus/bus.ts';
import type { Component, Readiness } from '../platform/health/readiness.ts';
import type { Logger } from '../platform/logger.ts';

/**
 * Starts a bus consumer without holding up the role: a Kafka consumer can take tens of seconds to join its
 * group after a crash, and the role's HTTP port must answer meanwhile (`/readyz` says "joining"). A failed
 * start (broker unreachable) is retried with backoff instead of ending the process.
 */
export function consumeInBackground(
  name: string,
  readiness: Readiness,
  logger: Logger,
  subscribe: () => Promise<Subscription>,
): Subscription {
  const state = readiness.component(name, 'joining its consumer group');
  const stopping = new AbortController();
  const started = (async (): Promise<Subscription | undefined> => {
    for (let delay = 1000; !stopping.signal.aborted; delay = Math.min(delay * 2, 30_000)) {
      try {
        const subscription = await subscribe();
        followMembership(state, subscription);
        logger.info({ consumer: name }, 'consumer ready');
        return subscription;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        state.set(false, `could not start, retrying: ${message}`);
        logger.warn({ err: error, consumer: name }, 'consumer could not start; retrying');
        await sleep(delay, undefined, { signal: stopping.signal }).catch(() => {});
      }
    }
    return undefined;
  })();
  return {
    async stop() {
      stopping.abort();
      await (await started)?.stop();
    },
  };
}

/**
 * Once a consumer has joined, a rebalance or a broker outage must not take the role out of its load
 * balancer (the api keeps taking uploads into its outbox meanwhile): the check stays ready and its detail
 * says where the membership stands.
 */
function followMembership(component: Component, subscription: Subscription): void {
  const membership = subscription.state?.bind(subscription);
  if (!membership) {
    component.set(true);
    return;
  }
  component.follow(() => {
    const state = membership();
    return state === 'member' ? { ok: true } : { ok: true, detail: `consumer group membership: ${state}` };
  });
}
