import { randomUUID } from 'node:crypto';
import { topics } from '../contracts/events.ts';
import type { LifecycleEvent } from '../contracts/lifecycle.ts';
import { connectDatabase } from '../db/client.ts';
import { enqueueEvents } from '../db/queries/outbox.ts';
import type { WebhookReceiver } from './webhook-receiver.ts';

export interface BurstFigures {
  events: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** From the commit of the burst to the last receipt. */
  drainMs: number;
  /** The event to its delivery row (relay, Kafka, fan-out): the part before the dispatcher. */
  queuedP50Ms: number;
  queuedP99Ms: number;
}

/**
 * `count` lifecycle events committed in one transaction through the outbox, as the producers write them,
 * then the receiver's view of them: latency is the event's timestamp (just before the commit) to the
 * verified receipt, through relay, Kafka, fan-out and the dispatcher.
 */
export async function webhookBurst(
  databaseUrl: string,
  receiver: WebhookReceiver,
  count: number,
  timeoutMs = 120_000,
): Promise<BurstFigures> {
  const database = connectDatabase(databaseUrl, 2);
  const ids = new Set<string>();
  const start = Date.now();
  let timestamp = '';
  const queuedMs: number[] = [];
  const mine = () => receiver.received.filter((r) => ids.has(r.id));
  try {
    await database.db.transaction(async (tx) => {
      timestamp = new Date().toISOString();
      const events = Array.from({ length: count }, () => {
        const event: LifecycleEvent = {
          id: randomUUID(),
          version: 1,
          type: 'media.updated',
          timestamp,
          data: { mediaId: randomUUID(), ownerId: 'burst', kind: 'image', visibility: 'public', position: 1 },
        };
        ids.add(event.id);
        return {
          id: event.id,
          aggregateId: event.data.mediaId,
          topic: topics.mediaLifecycle,
          eventType: event.type,
          payload: event,
        };
      });
      await enqueueEvents(tx, events);
    });
    await receiver.waitFor(
      () => new Set(mine().map((r) => r.id)).size === count,
      timeoutMs,
      `${count} burst events`,
    );
    const queued = await database.pool.query<{ ms: number }>(
      `select (extract(epoch from created_at - $1::timestamptz) * 1000)::float8 as ms
       from webhook_delivery where event_id = any($2::uuid[]) order by 1`,
      [timestamp, [...ids]],
    );
    queuedMs.push(...queued.rows.map((r) => Math.round(r.ms)));
  } finally {
    await database.close();
  }
  const first = new Map<string, number>();
  for (const r of mine()) if (!first.has(r.id)) first.set(r.id, r.receivedAt - r.eventAt);
  const latencies = [...first.values()].sort((a, b) => a - b);
  const at = (q: number, of = latencies) => of[Math.min(of.length - 1, Math.floor(q * of.length))] ?? 0;
  return {
    queuedP50Ms: at(0.5, queuedMs),
    queuedP99Ms: at(0.99, queuedMs),
    events: count,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    maxMs: latencies.at(-1) ?? 0,
    drainMs: Math.max(...mine().map((r) => r.receivedAt)) - start,
  };
}
