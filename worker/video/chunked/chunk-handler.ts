import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { type ChunkOutcome, type OptimizeResult, VideoChunkJob } from '../../../contracts/events.ts';
import { type DeliveredMessage, maxDeliveryAttempts } from '../../../platform/bus/bus.ts';
import { type JobOutcome, untimedWorker } from '../../../platform/metrics/pipeline.ts';
import { derivedEventId } from '../../event-ids.ts';
import { executionReport } from '../../execution-report.ts';
import { publisher, type WorkerDeps } from '../../optimize-handler.ts';
import { uploadFile } from '../../upload-file.ts';
import { encodeChunk } from '../chunks/encode-chunk.ts';
import type { PlannedRendition } from '../plan.ts';
import { isObjectGone, isStopped, MediaStoppedError, stoppedRungs, untilStopped } from './media-stopped.ts';
import { chunkSegmentKey } from './segment-key.ts';

/** ffmpeg reads the original through this URL for the whole encode, range by range. */
const sourceUrlTtlSeconds = 900;

/**
 * One chunk job: the span of the original, read through a presigned URL (never downloaded whole), encoded
 * into each of the job's rungs with one decode, each segment stored under a key of its own. A finished
 * chunk is a checkpoint: a redelivered or duplicated job whose segments are all stored reports them done
 * without encoding. Infrastructure failures throw (the bus retries this chunk alone); the last attempt
 * reports its rungs failed first, so the API fails those renditions instead of waiting for ever. A media
 * deleted or taken down (its stop mark in storage) ends the job before or during the encode, with nothing
 * reported.
 */
export function chunkHandler(deps: WorkerDeps) {
  return async (message: DeliveredMessage): Promise<void> => {
    if (!Value.Check(VideoChunkJob, message.payload)) {
      throw new Error(`video chunk job ${message.id} breaks the contract`);
    }
    const job = message.payload;
    const { index } = job.span;
    const qualities = job.renditions.map((rendition) => rendition.quality);
    const log = deps.logger.child({
      mediaId: job.mediaId,
      chunk: index,
      rungs: qualities,
      attempt: message.attempt,
    });
    const started = performance.now();
    const timer = (deps.metrics ?? untimedWorker).job('chunk');
    const workDir = join(deps.config.worker.tempDir, message.id);
    const publish = publisher(deps.bus, job.mediaId, message);
    const result = (chunk: ChunkOutcome): OptimizeResult => ({
      mediaId: job.mediaId,
      requestId: job.requestId,
      stage: 'chunk',
      success: true,
      processed: [],
      sha256: null,
      metadata: {},
      chunk,
      execution: executionReport(message, started),
    });
    let outcome: JobOutcome = 'error';
    try {
      // One round of HEADs, all at once: this is on the way to the first playable chunk.
      const [stopped, failedRungs, heads] = await Promise.all([
        isStopped(deps.storage, job.mediaId),
        stoppedRungs(deps.storage, job, qualities),
        Promise.all(qualities.map((quality) => deps.storage.head(chunkSegmentKey(job, quality, index)))),
      ]);
      if (stopped) throw new MediaStoppedError(`media ${job.mediaId} was stopped`);
      // A rung the API failed (a chunk of it failed every attempt) is not encoded any further.
      const live = qualities.filter((quality) => !failedRungs.includes(quality));
      if (live.length === 0) {
        outcome = 'done';
        log.info({ failedRungs }, 'chunk job stopped: its rungs failed');
        return;
      }
      const renditions = (job.renditions as PlannedRendition[]).filter((r) => live.includes(r.quality));
      const keys = live.map((quality) => chunkSegmentKey(job, quality, index));
      const stored = heads.filter((_, i) => live.includes(qualities[i] as string));
      let done: ChunkOutcome['done'];
      const encoded = stored.some((head) => head === undefined);
      if (!encoded) {
        done = live.map((quality, i) => ({
          quality,
          key: keys[i] as string,
          size: stored[i]?.size ?? 0,
        }));
        log.info('chunk already stored; not encoded again');
      } else {
        const source = await deps.storage.presignGet(job.objectKey, sourceUrlTtlSeconds, 'internal');
        log.info('chunk encode started');
        const outputs = await timer.step('encode', () =>
          untilStopped(deps.storage, job.mediaId, deps.signal, (signal) =>
            encodeChunk(source, job.span, renditions, workDir, {
              ffmpegPath: deps.config.ffmpegPath,
              ffprobePath: deps.config.ffprobePath,
              signal,
              withAudio: job.withAudio,
              ...(job.sourceRotation === undefined ? {} : { sourceRotation: job.sourceRotation }),
              // Only the chunk a viewer waits for takes every core it can; the rest spend the least CPU.
              ...(job.niceness ? { niceness: job.niceness, threads: 1 } : {}),
            }),
          ),
        );
        log.info('chunk encoded');
        done = [];
        for (const output of outputs) {
          const key = chunkSegmentKey(job, output.quality, index);
          await timer.step('upload', () =>
            uploadFile(
              deps.storage,
              { key, path: output.path, contentType: 'video/mp2t', bytes: output.size },
              deps.signal,
            ),
          );
          done.push({ quality: output.quality, key, size: output.size });
        }
      }
      await publish(derivedEventId(`${message.id}:done`), result({ index, done, failed: [], encoded }));
      outcome = 'done';
      log.info({ encoded, ms: Math.round(performance.now() - started) }, 'chunk done');
    } catch (error) {
      // Deleted or taken down: nothing to build nor to report, and no retry.
      if (error instanceof MediaStoppedError) {
        outcome = 'done';
        log.info({ ms: Math.round(performance.now() - started) }, 'chunk job stopped: media stopped');
        return;
      }
      // An original no longer in storage (a replayed request whose first run deduplicated it away, an
      // operator's cleanup) fails every attempt alike: report the rungs failed now instead of retrying into
      // the dead-letter queue. The API applies it only while this request is the media's current one.
      const gone = !deps.signal?.aborted && (await isObjectGone(deps.storage, job.objectKey));
      if ((message.attempt >= maxDeliveryAttempts || gone) && !deps.signal?.aborted) {
        const why = gone ? 'the original is no longer in storage' : 'every attempt failed';
        const detail = `${why}; last error: ${error instanceof Error ? error.message : String(error)}`;
        const failed = qualities.map((quality) => ({ quality, detail: detail.slice(0, 1000) }));
        await publish(randomUUID(), result({ index, done: [], failed, encoded: false })).catch(
          (publishError) => log.error({ err: publishError }, 'could not report a failed chunk'),
        );
      }
      if (gone) {
        outcome = 'done';
        log.warn('chunk job ended: its original is no longer in storage');
        return;
      }
      throw error;
    } finally {
      timer.end(outcome);
      await rm(workDir, { recursive: true, force: true });
    }
  };
}
