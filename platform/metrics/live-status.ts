import type { Counter, Gauge, Registry } from 'prom-client';
import { counter, gauge } from './registry.ts';

/** The API's live status streams (Server-Sent Events). */
export interface LiveStatusMetrics {
  open: Gauge;
  sent: Counter<'type'>;
}

export function liveStatusMetrics(registry: Registry): LiveStatusMetrics {
  return {
    open: gauge(
      registry,
      'mediagate_live_status_streams_in_flight',
      'Live status streams this API holds open',
    ),
    sent: counter(
      registry,
      'mediagate_live_status_events_sent_total',
      'Live status events written to streams, by event type',
      ['type'],
    ),
  };
}
