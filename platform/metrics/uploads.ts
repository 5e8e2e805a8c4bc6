import type { Counter, Histogram, Registry } from 'prom-client';
import { counter, histogram, jobBuckets, latencyBuckets } from './registry.ts';

/** The upload funnel and the gate: what the control plane records as an upload moves to `ready`. */
export interface UploadMetrics {
  /** Sessions opened (`outcome="session"`) or answered at once with a clone (`outcome="deduplicated"`). */
  created: Counter<'kind' | 'outcome'>;
  /** Passed the gate: `processing`, an optimize request on its way. */
  completed: Counter<'kind'>;
  /** Refused by the gate (422), by code. */
  rejected: Counter<'kind' | 'code'>;
  ready: Counter<'kind'>;
  failed: Counter<'kind' | 'code'>;
  gateDuration: Histogram<'kind' | 'outcome'>;
  gateReadBytes: Histogram<'kind'>;
  timeToReady: Histogram<'kind'>;
}

export function uploadMetrics(registry: Registry): UploadMetrics {
  return {
    created: counter(
      registry,
      'mediagate_uploads_created_total',
      'Upload requests accepted, by kind and outcome',
      ['kind', 'outcome'],
    ),
    completed: counter(
      registry,
      'mediagate_uploads_completed_total',
      'Uploads that passed the completion gate and went to processing',
      ['kind'],
    ),
    rejected: counter(
      registry,
      'mediagate_uploads_rejected_total',
      'Uploads the completion gate refused (422), by kind and error code',
      ['kind', 'code'],
    ),
    ready: counter(registry, 'mediagate_media_ready_total', 'Optimize results applied: media ready', [
      'kind',
    ]),
    failed: counter(
      registry,
      'mediagate_media_failed_total',
      'Optimize results applied: media failed, by kind and processing failure code',
      ['kind', 'code'],
    ),
    gateDuration: histogram(
      registry,
      'mediagate_gate_duration_seconds',
      'Time the completion gate took (HEAD, sniff, probe, moderation), by kind and outcome (passed, rejected, error)',
      ['kind', 'outcome'],
      latencyBuckets,
    ),
    gateReadBytes: histogram(
      registry,
      'mediagate_gate_read_bytes',
      'Bytes of the uploaded object the gate read from storage, by kind',
      ['kind'],
      [4096, 65_536, 262_144, 1_048_576, 4_194_304, 16_777_216, 67_108_864],
    ),
    timeToReady: histogram(
      registry,
      'mediagate_media_time_to_ready_seconds',
      'From the completion that passed the gate to the result that made the media ready, by kind',
      ['kind'],
      jobBuckets,
    ),
  };
}
