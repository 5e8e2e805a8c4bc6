import { Value } from '@sinclair/typebox/value';
import { sql } from 'drizzle-orm';
import { topics } from '../../contracts/events.ts';
import { LifecycleEvent } from '../../contracts/lifecycle.ts';
import type { Queryable } from '../../db/client.ts';
import type { Bus, Subscription } from '../../platform/bus/bus.ts';
import type { Logger } from '../../platform/logger.ts';

export const webhooksConsumer = 'webhooks';

/**
 * One delivery per endpoint whose filter takes the event. Unique per endpoint × event id, so a redelivered
 * or replayed event (same lifecycle id) adds nothing: no de-duplication table needed. Disabled endpoints get
 * theirs too, held until they are re-enabled.
 */
export async function fanOut(db: Queryable, event: LifecycleEvent): Promise<number> {
  const result = await db.execute(sql`
    insert into webhook_delivery (id, endpoint_id, event_id, event_type, payload)
    select gen_random_uuid(), e.id, ${event.id}, ${event.type}, ${JSON.stringify(event)}::jsonb
    from webhook_endpoint e
    where cardinality(e.event_types) = 0 or ${event.type} = any(e.event_types)
    on conflict (endpoint_id, event_id) do nothing`);
  return result.rowCount ?? 0;
}

/**
 * Consumes `media.lifecycle` (group `webhooks`). A payload that breaks the contract throws, so the bus
 * retries it and parks it in the dead-letter queue; `onQueued` wakes this process's dispatcher.
 */
export function subscribeWebhookFanOut(
  db: Queryable,
  bus: Bus,
  logger: Logger,
  onQueued: () => void,
): Promise<Subscription> {
  return bus.subscribe(
    topics.mediaLifecycle,
    webhooksConsumer,
    async (message) => {
      if (!Value.Check(LifecycleEvent, message.payload)) {
        const first = [...Value.Errors(LifecycleEvent, message.payload)][0];
        throw new Error(
          `lifecycle event ${message.id} breaks the contract at ${first?.path}: ${first?.message}`,
        );
      }
      const queued = await fanOut(db, message.payload);
      if (queued > 0) onQueued();
      logger.debug({ eventId: message.payload.id, type: message.payload.type, queued }, 'webhook fan-out');
    },
    { concurrency: 16 },
  );
}
