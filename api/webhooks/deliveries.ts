import { randomUUID } from 'node:crypto';
import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import { AppError } from '../../contracts/errors.ts';
import { lifecycleSchemaVersion } from '../../contracts/lifecycle.ts';
import {
  type DeliveryList,
  type DeliveryQuery,
  type DeliveryView,
  webhookTestEventType,
} from '../../contracts/webhook-endpoints.ts';
import type { Database } from '../../db/client.ts';
import { webhookAttempt, webhookDelivery } from '../../db/schema.ts';
import type { Config } from '../../platform/config.ts';
import { recordAttempt, sendAttempt } from './attempt.ts';
import { claimedFromRow } from './dispatcher.ts';
import { loadEndpoint } from './endpoints.ts';
import { deliveryView } from './views.ts';

const attemptsShown = 20;

/** An endpoint's deliveries, newest first, each with its latest attempts: the delivery log. */
export async function listDeliveries(
  db: Database,
  endpointId: string,
  query: DeliveryQuery,
): Promise<DeliveryList> {
  await loadEndpoint(db, endpointId);
  const limit = query.limit ?? 50;
  if (query.before) await requireDelivery(db, endpointId, query.before);
  const rows = await db
    .select()
    .from(webhookDelivery)
    .where(
      and(
        eq(webhookDelivery.endpointId, endpointId),
        query.state ? eq(webhookDelivery.state, query.state) : undefined,
        // Compared in the database: PostgreSQL keeps microseconds, a JavaScript Date only milliseconds, so a
        // cursor's time read out and sent back would skip the deliveries made in the same millisecond.
        query.before
          ? sql`(${webhookDelivery.createdAt}, ${webhookDelivery.id}) <
                (select created_at, id from webhook_delivery where id = ${query.before})`
          : undefined,
      ),
    )
    .orderBy(desc(webhookDelivery.createdAt), desc(webhookDelivery.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const attempts = page.length
    ? await db
        .select()
        .from(webhookAttempt)
        .where(
          inArray(
            webhookAttempt.deliveryId,
            page.map((r) => r.id),
          ),
        )
        .orderBy(desc(webhookAttempt.id))
    : [];
  return {
    items: page.map((row) =>
      deliveryView(row, attempts.filter((a) => a.deliveryId === row.id).slice(0, attemptsShown)),
    ),
    nextBefore: rows.length > limit ? (page.at(-1)?.id ?? null) : null,
  };
}

async function requireDelivery(db: Database, endpointId: string, id: string): Promise<void> {
  const [row] = await db
    .select({ id: webhookDelivery.id })
    .from(webhookDelivery)
    .where(and(eq(webhookDelivery.endpointId, endpointId), eq(webhookDelivery.id, id)));
  if (!row)
    throw new AppError(
      'webhook_delivery_not_found',
      'The `before` cursor names no delivery of this endpoint',
    );
}

/**
 * Sends one delivery again now, whatever its state, with the same `webhook-id` (receivers de-duplicate on
 * it), and answers with the outcome. Works on a disabled endpoint too: it is how an operator checks a fix.
 */
export async function redeliver(
  db: Database,
  settings: Config['webhooks'],
  endpointId: string,
  deliveryId: string,
): Promise<DeliveryView> {
  const found = await db.execute(sql`
    select d.id, d.endpoint_id, d.event_id, d.payload, d.attempts + 1 as attempts, d.created_at,
      e.url, e.secret, e.previous_secret, e.previous_secret_until
    from webhook_delivery d join webhook_endpoint e on e.id = d.endpoint_id
    where d.id = ${deliveryId} and d.endpoint_id = ${endpointId}`);
  const row = found.rows[0];
  if (!row) throw new AppError('webhook_delivery_not_found');
  const delivery = claimedFromRow(row as Record<string, unknown>);
  await db
    .update(webhookDelivery)
    .set({ attempts: sql`${webhookDelivery.attempts} + 1` })
    .where(eq(webhookDelivery.id, deliveryId));
  await recordAttempt(db, delivery, await sendAttempt(delivery, settings), 'manual', settings);
  const view = await listOne(db, deliveryId);
  if (!view) throw new AppError('webhook_delivery_not_found');
  return view;
}

async function listOne(db: Database, deliveryId: string): Promise<DeliveryView | undefined> {
  const [row] = await db.select().from(webhookDelivery).where(eq(webhookDelivery.id, deliveryId));
  if (!row) return undefined;
  const attempts = await db
    .select()
    .from(webhookAttempt)
    .where(eq(webhookAttempt.deliveryId, deliveryId))
    .orderBy(desc(webhookAttempt.id))
    .limit(attemptsShown);
  return deliveryView(row, attempts);
}

/** Queues a `webhook.test` event for one endpoint, past its filter; the dispatcher sends it like any other. */
export async function queueTestEvent(db: Database, endpointId: string) {
  await loadEndpoint(db, endpointId);
  const eventId = randomUUID();
  const deliveryId = randomUUID();
  await db.insert(webhookDelivery).values({
    id: deliveryId,
    endpointId,
    eventId,
    eventType: webhookTestEventType,
    payload: {
      id: eventId,
      version: lifecycleSchemaVersion,
      type: webhookTestEventType,
      timestamp: new Date().toISOString(),
      data: { endpointId },
    },
  });
  return { deliveryId, eventId };
}

/** For the metrics gauges: one query per scrape. */
export async function readWebhookQueue(db: Database) {
  const result = await db.execute(sql`
    select
      (select count(*)::int from webhook_delivery d join webhook_endpoint e on e.id = d.endpoint_id
        where d.state = 'pending' and d.next_attempt_at <= now() and e.enabled) as due,
      (select coalesce(extract(epoch from now() - min(d.next_attempt_at)), 0)::float8
        from webhook_delivery d join webhook_endpoint e on e.id = d.endpoint_id
        where d.state = 'pending' and d.next_attempt_at <= now() and e.enabled) as oldest,
      (select count(*) filter (where enabled)::int from webhook_endpoint) as enabled,
      (select count(*) filter (where not enabled)::int from webhook_endpoint) as disabled`);
  const r = result.rows[0] as { due: number; oldest: number; enabled: number; disabled: number };
  return {
    due: r.due,
    oldestDueAgeSeconds: r.oldest,
    enabledEndpoints: r.enabled,
    disabledEndpoints: r.disabled,
  };
}
