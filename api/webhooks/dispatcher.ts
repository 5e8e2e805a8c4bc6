import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';
import type { Config } from '../../platform/config.ts';
import type { Logger } from '../../platform/logger.ts';
import type { WebhookMetrics } from '../../platform/metrics/webhooks.ts';
import { type ClaimedDelivery, recordAttempt, sendAttempt } from './attempt.ts';

export interface Dispatcher {
  /** Look for due deliveries now (new ones were queued in this process). */
  wake(): void;
  stop(): Promise<void>;
}

/**
 * Claims due deliveries with `FOR UPDATE SKIP LOCKED` and leases them (the due time moves past the send's
 * timeout), so any number of api instances share the queue and none sends a delivery another holds. A
 * process that dies mid-send leaves the lease to lapse and the delivery goes again, with the same
 * `webhook-id`: at least once. No order is kept between deliveries, even of one media.
 */
export function startDispatcher(deps: {
  db: Database;
  settings: Config['webhooks'];
  logger: Logger;
  metrics?: WebhookMetrics;
}): Dispatcher {
  const { db, settings, logger, metrics } = deps;
  const leaseMs = settings.timeoutMs + 30_000;
  const inFlight = new Set<Promise<void>>();
  const perEndpoint = new Map<string, number>();
  let stopped = false;
  let wakeRequested = false;
  let sleeping: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;

  const wake = () => {
    wakeRequested = true;
    sleeping?.();
  };

  async function deliver(delivery: ClaimedDelivery) {
    const outcome = await sendAttempt(delivery, settings);
    const result = await recordAttempt(db, delivery, outcome, 'scheduled', settings);
    if (result.settled === 'gone') {
      logger.info(
        { endpointId: delivery.endpointId, eventId: delivery.eventId },
        'webhook endpoint deleted mid-attempt',
      );
      return;
    }
    const ok = result.settled === 'delivered';
    metrics?.attempt(
      ok ? 'success' : outcome.statusCode === null ? 'network_error' : 'http_error',
      outcome.latencyMs / 1000,
    );
    if (result.settled === 'delivered' || result.settled === 'failed') metrics?.settled(result.settled);
    if (result.endpointDisabled) {
      metrics?.disabled();
      logger.warn({ endpointId: delivery.endpointId }, 'webhook endpoint disabled after sustained failure');
    }
    if (!ok)
      logger.info(
        {
          endpointId: delivery.endpointId,
          eventId: delivery.eventId,
          attempt: delivery.attempts,
          error: result.outcome.error,
        },
        'webhook attempt failed',
      );
  }

  async function loop() {
    while (!stopped) {
      wakeRequested = false;
      const room = settings.concurrency - inFlight.size;
      let claimed: ClaimedDelivery[] = [];
      if (room > 0) {
        try {
          claimed = await claimDue(db, room, leaseMs, settings.endpointConcurrency, perEndpoint);
        } catch (error) {
          logger.warn({ err: error }, 'could not claim webhook deliveries');
        }
      }
      for (const delivery of claimed) {
        const { endpointId } = delivery;
        perEndpoint.set(endpointId, (perEndpoint.get(endpointId) ?? 0) + 1);
        const running: Promise<void> = deliver(delivery)
          .catch((error) => logger.error({ err: error, deliveryId: delivery.id }, 'webhook delivery crashed'))
          .finally(() => {
            const left = (perEndpoint.get(endpointId) ?? 1) - 1;
            if (left > 0) perEndpoint.set(endpointId, left);
            else perEndpoint.delete(endpointId);
            inFlight.delete(running);
            wake();
          });
        inFlight.add(running);
      }
      // A full claim means more may be due: look again at once.
      if (claimed.length === room && room > 0) continue;
      if (wakeRequested || stopped) continue;
      await new Promise<void>((resolve) => {
        sleeping = resolve;
        timer = setTimeout(resolve, settings.pollIntervalMs);
      });
      clearTimeout(timer);
      sleeping = undefined;
    }
  }

  const running = loop();
  return {
    wake,
    async stop() {
      stopped = true;
      sleeping?.();
      await running;
      await Promise.allSettled([...inFlight]);
    },
  };
}

/**
 * Due deliveries of enabled endpoints, leased to this process, at most `perEndpoint` in flight for any one
 * endpoint (counting the `busy` ones this process already holds): a receiver that hangs holds only its own
 * share of the slots, and the rest go to other endpoints. Taken round-robin (each endpoint's oldest due, then
 * each one's second…), not oldest first overall: a backlog to endpoints that are down would otherwise take
 * every slot, and another endpoint's new events would wait until all of it had been tried. The window picks candidates
 * (it cannot be combined with a row lock); the locking select re-checks them and skips what another
 * process holds.
 */
export async function claimDue(
  db: Database,
  limit: number,
  leaseMs: number,
  perEndpoint: number,
  busy: ReadonlyMap<string, number>,
): Promise<ClaimedDelivery[]> {
  const held = JSON.stringify(Object.fromEntries(busy));
  const result = await db.execute(sql`
    update webhook_delivery d
    set attempts = d.attempts + 1, next_attempt_at = now() + ${leaseMs} * interval '1 millisecond'
    from webhook_endpoint e
    where e.id = d.endpoint_id and d.id in (
      select l.id from webhook_delivery l
      where l.state = 'pending' and l.next_attempt_at <= now() and l.id in (
        select r.id from (
          select c.id, c.endpoint_id, c.next_attempt_at,
            row_number() over (partition by c.endpoint_id order by c.next_attempt_at) as nth
          from webhook_delivery c join webhook_endpoint ce on ce.id = c.endpoint_id
          where c.state = 'pending' and c.next_attempt_at <= now() and ce.enabled) r
        where r.nth + coalesce((${held}::jsonb ->> r.endpoint_id::text)::int, 0) <= ${perEndpoint}
        order by r.nth, r.next_attempt_at
        limit ${limit})
      for update of l skip locked)
    returning d.id, d.endpoint_id, d.event_id, d.payload, d.attempts, d.created_at,
      e.url, e.secret, e.previous_secret, e.previous_secret_until`);
  return result.rows.map((r) => claimedFromRow(r as Record<string, unknown>));
}

export function claimedFromRow(r: Record<string, unknown>): ClaimedDelivery {
  return {
    id: r.id as string,
    endpointId: r.endpoint_id as string,
    eventId: r.event_id as string,
    payload: r.payload,
    attempts: r.attempts as number,
    createdAt: new Date(r.created_at as string),
    url: r.url as string,
    secret: r.secret as string,
    previousSecret: (r.previous_secret as string | null) ?? null,
    previousSecretUntil: r.previous_secret_until ? new Date(r.previous_secret_until as string) : null,
  };
}
