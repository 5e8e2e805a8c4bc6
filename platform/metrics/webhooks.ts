import { Gauge, type Registry } from 'prom-client';
import { counter, histogram, latencyBuckets, sharedReading } from './registry.ts';

export interface WebhookQueueReading {
  /** Pending deliveries due now on enabled endpoints. */
  due: number;
  /** How long the oldest of them has been due; 0 when none. */
  oldestDueAgeSeconds: number;
  enabledEndpoints: number;
  disabledEndpoints: number;
}

/** What the dispatcher reports per attempt and per settled delivery. */
export interface WebhookMetrics {
  attempt(outcome: 'success' | 'http_error' | 'network_error', seconds: number): void;
  settled(outcome: 'delivered' | 'failed'): void;
  disabled(): void;
}

export function webhookMetrics(registry: Registry): WebhookMetrics {
  const attempts = counter(
    registry,
    'mediagate_webhook_attempts_total',
    'Outgoing webhook HTTP attempts, by outcome (success = 2xx)',
    ['outcome'],
  );
  const settled = counter(
    registry,
    'mediagate_webhook_deliveries_total',
    'Outgoing webhook deliveries settled: delivered, or failed after the whole retry schedule',
    ['outcome'],
  );
  const disabled = counter(
    registry,
    'mediagate_webhook_endpoints_auto_disabled_total',
    'Webhook endpoints disabled automatically after sustained failure',
  );
  const latency = histogram(
    registry,
    'mediagate_webhook_attempt_duration_seconds',
    'Time from connecting to a webhook endpoint to reading its answer (or giving up)',
    ['outcome'],
    // Past WEBHOOK_TIMEOUT_MS's default (15 s): a receiver that hangs is seen in its own bucket.
    [...latencyBuckets, 15, 30, 60],
  );
  return {
    attempt(outcome, seconds) {
      attempts.inc({ outcome });
      latency.observe({ outcome }, seconds);
    },
    settled: (outcome) => settled.inc({ outcome }),
    disabled: () => disabled.inc(),
  };
}

/** The delivery queue and the endpoints, read from PostgreSQL once per scrape. */
export function registerWebhookGauges(registry: Registry, read: () => Promise<WebhookQueueReading>): void {
  if (registry.getSingleMetric('mediagate_webhook_due_events')) return;
  const reading = sharedReading(read);
  new Gauge({
    name: 'mediagate_webhook_due_events',
    help: 'Webhook deliveries due now on enabled endpoints and not yet sent',
    registers: [registry],
    async collect() {
      const now = await reading();
      if (now) this.set(now.due);
    },
  });
  new Gauge({
    name: 'mediagate_webhook_oldest_due_age_seconds',
    help: 'How long the oldest due webhook delivery has waited (0 when none): how late the dispatcher is',
    registers: [registry],
    async collect() {
      const now = await reading();
      if (now) this.set(now.oldestDueAgeSeconds);
    },
  });
  new Gauge({
    name: 'mediagate_webhook_endpoints_state',
    help: 'Webhook endpoints by state (enabled, disabled)',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const now = await reading();
      if (!now) return;
      this.set({ state: 'enabled' }, now.enabledEndpoints);
      this.set({ state: 'disabled' }, now.disabledEndpoints);
    },
  });
}
