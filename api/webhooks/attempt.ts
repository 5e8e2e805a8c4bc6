import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';
import type { Config } from '../../platform/config.ts';
import { retriesExhausted, retryDelayMs } from './backoff.ts';
import { postWebhook, type SendOutcome } from './send.ts';
import { signedHeaders } from './signature.ts';

/** A delivery as the dispatcher or a redelivery holds it while it is being sent. */
export interface ClaimedDelivery {
  id: string;
  endpointId: string;
  eventId: string;
  payload: unknown;
  /** Attempts including this one. */
  attempts: number;
  createdAt: Date;
  url: string;
  secret: string;
  previousSecret: string | null;
  previousSecretUntil: Date | null;
}

export interface AttemptResult {
  outcome: SendOutcome;
  /** `gone`: the endpoint (and so the delivery) was deleted while the attempt was on its way. */
  settled: 'delivered' | 'failed' | 'retrying' | 'unchanged' | 'gone';
  endpointDisabled: boolean;
}

type WebhookSettings = Config['webhooks'];

/** Signs and sends one attempt: the event's id on every attempt, the current (and rotating-out) secret. */
export async function sendAttempt(
  delivery: ClaimedDelivery,
  settings: WebhookSettings,
): Promise<SendOutcome> {
  const body = JSON.stringify(delivery.payload);
  const secrets = [delivery.secret];
  if (delivery.previousSecret && delivery.previousSecretUntil && delivery.previousSecretUntil > new Date())
    secrets.push(delivery.previousSecret);
  return postWebhook(delivery.url, signedHeaders(secrets, delivery.eventId, body), body, settings);
}

/**
 * Records an attempt and moves the delivery on: 2xx → delivered; otherwise the next try after a jittered
 * backoff, or `failed` once the retry span has passed. A manual redelivery that fails leaves the delivery
 * where it was, its last-attempt fields included: the failure is in the attempt log only. Any success ends the endpoint's failure streak; a failure starts one, and an endpoint
 * whose streak is older than `disableAfterMs` is disabled with the reason.
 */
export async function recordAttempt(
  db: Database,
  delivery: ClaimedDelivery,
  outcome: SendOutcome,
  trigger: 'scheduled' | 'manual',
  settings: WebhookSettings,
): Promise<AttemptResult> {
  const ok = outcome.statusCode !== null && outcome.statusCode >= 200 && outcome.statusCode < 300;
  const excerpt = outcome.excerpt === null ? null : storable(outcome.excerpt);
  const error = outcome.error === null ? (ok ? null : `HTTP ${outcome.statusCode}`) : storable(outcome.error);
  const now = new Date();
  const exhausted = !ok && retriesExhausted(delivery.createdAt, now, settings.retryBaseMs);
  const settled = ok ? 'delivered' : trigger === 'manual' ? 'unchanged' : exhausted ? 'failed' : 'retrying';
  const nextAttemptAt = new Date(now.getTime() + retryDelayMs(delivery.attempts, settings.retryBaseMs));
  const state = settled === 'delivered' ? 'delivered' : settled === 'failed' ? 'failed' : null;
  const retryAt = settled === 'retrying' ? nextAttemptAt.toISOString() : null;
  const disableAfter = sql`now() - ${settings.disableAfterMs} * interval '1 millisecond'`;
  const touchesDelivery = ok || trigger === 'scheduled';
  // One statement, one round trip: under a burst the dispatcher records hundreds of these a second.
  let result: Awaited<ReturnType<typeof db.execute>>;
  try {
    result = await db.execute(sql`
    with attempt as (
      insert into webhook_attempt (delivery_id, endpoint_id, trigger, status_code, latency_ms, response_excerpt, error)
      select ${delivery.id}, ${delivery.endpointId}, ${trigger}, ${outcome.statusCode}, ${outcome.latencyMs}, ${excerpt}, ${error}
      where exists (select 1 from webhook_delivery where id = ${delivery.id})
    ), delivery as (
      update webhook_delivery set
        state = coalesce(${state}, state),
        delivered_at = case when ${ok} then now() else delivered_at end,
        next_attempt_at = coalesce(${retryAt}::timestamptz, next_attempt_at),
        last_status = ${outcome.statusCode}, last_latency_ms = ${outcome.latencyMs},
        last_excerpt = ${excerpt}, last_error = ${error}
      where id = ${delivery.id} and ${touchesDelivery}
    ), recovered as (
      update webhook_endpoint set failing_since = null
      where ${ok} and id = ${delivery.endpointId} and failing_since is not null
    ), failing as (
      update webhook_endpoint e set
        failing_since = coalesce(e.failing_since, now()),
        enabled = e.enabled and not t.trip,
        disabled_at = case when t.trip then now() else e.disabled_at end,
        disabled_reason = case when t.trip
          then 'every attempt failed since ' || to_char(e.failing_since at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ' (last: ' || ${error} || ')'
          else e.disabled_reason end
      from (
        select id, enabled and coalesce(failing_since, now()) <= ${disableAfter} as trip
        from webhook_endpoint where id = ${delivery.endpointId}
      ) t
      where not ${ok} and e.id = t.id
      returning t.trip
    )
    select coalesce((select trip from failing), false) as just_disabled,
      exists (select 1 from webhook_delivery where id = ${delivery.id}) as present`);
  } catch (error) {
    // The endpoint was deleted between the check above and the insert: its deliveries went with it.
    if (isForeignKeyViolation(error)) return { outcome, settled: 'gone', endpointDisabled: false };
    throw error;
  }
  if (result.rows[0]?.present !== true) return { outcome, settled: 'gone', endpointDisabled: false };
  return { outcome, settled, endpointDisabled: result.rows[0]?.just_disabled === true };
}

function isForeignKeyViolation(error: unknown): boolean {
  const cause = (error as { cause?: { code?: string } }).cause;
  return (error as { code?: string }).code === '23503' || cause?.code === '23503';
}

/** PostgreSQL text holds no NUL, and an excerpt is for reading: a receiver's bytes must not fail the insert. */
function storable(text: string): string {
  return text.replaceAll('\u0000', '\uFFFD').slice(0, 1024);
}
