import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { ProcessedObject } from '../../../contracts/events.ts';
import type { InProcessApi } from '../../../test/in-process.ts';
import { applyPartialResult } from '../../results/apply-partial.ts';
import { applyOptimizeResult } from '../../results/apply-result.ts';

/**
 * Moves a media on the middle tier the way the worker's results do, through the functions the results
 * consumer calls: a real upload through the gate, then partial and final results.
 */
export function mediaDriver(api: InProcessApi, photo: Buffer) {
  return {
    async processing(owner: string): Promise<string> {
      const session = await api.upload(owner, photo, 'image/jpeg', 'p.jpg');
      const done = await api.call(owner, {
        method: 'POST',
        url: `/v1/uploads/${session.uploadId}/complete`,
        payload: { parts: session.parts },
      });
      assert.equal(done.statusCode, 202, done.body);
      return session.mediaId;
    },
    partial: (mediaId: string, processed: ProcessedObject[], progress: Record<string, number>) =>
      applyPartialResult(api.ctx.db, {
        mediaId,
        requestId: 'r1',
        stage: 'partial',
        success: true,
        processed,
        progress,
        sha256: null,
        metadata: {},
      }),
    final: (mediaId: string, processed: ProcessedObject[], success = true) =>
      applyOptimizeResult(api.ctx.db, randomUUID(), {
        mediaId,
        requestId: 'r1',
        stage: 'final',
        success,
        processed,
        sha256: null,
        metadata: {},
        ...(success ? {} : { error: { code: 'image_undecodable', detail: 'not an image after all' } }),
      }),
  };
}

export const output = (mediaId: string, quality: string, size: number): ProcessedObject => ({
  quality,
  format: 'webp',
  key: `derived/${mediaId}/r1/${quality}.webp`,
  url: '',
  width: size,
  height: size,
  size: size * 10,
});
