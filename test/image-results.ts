import { randomUUID } from 'node:crypto';
import type { OptimizeResult } from '../contracts/events.ts';

/** An output as `[quality, format, bytes]`; its dimensions follow from its size so rungs stay distinct. */
export type FakeOutput = readonly [quality: string, format: string, bytes: number];

/**
 * A successful image result as the worker publishes it, for tiers that run no worker: each output keyed under
 * a fresh request, as the worker keys them. `patch` overrides any field (a failure, a partial stage, a hash).
 */
export function imageResult(
  mediaId: string,
  outputs: readonly FakeOutput[],
  patch: Partial<OptimizeResult> = {},
): OptimizeResult {
  const requestId = randomUUID();
  return {
    mediaId,
    requestId,
    success: true,
    processed: outputs.map(([quality, format, bytes]) => ({
      quality,
      format,
      key: `derived/${mediaId}/${requestId}/${quality}.${format}`,
      url: '',
      width: Math.round(bytes / 10),
      height: Math.round(bytes / 20),
      size: bytes,
    })),
    sha256: null,
    metadata: {},
    ...patch,
  };
}
