import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { type OptimizeResult, VideoAssembleJob } from '../../../contracts/events.ts';
import { type DeliveredMessage, maxDeliveryAttempts } from '../../../platform/bus/bus.ts';
import { type JobOutcome, untimedWorker } from '../../../platform/metrics/pipeline.ts';
import { uploadOutput } from '../../av/upload-output.ts';
import { downloadAndHash } from '../../download.ts';
import { derivedEventId } from '../../event-ids.ts';
import { executionReport } from '../../execution-report.ts';
import { publisher, type WorkerDeps } from '../../optimize-handler.ts';
import { assembleRendition } from '../chunks/assemble-rendition.ts';
import type { PlannedRendition } from '../plan.ts';
import { isStopped, MediaStoppedError, untilStopped } from './media-stopped.ts';
import { BACKGROUND_NICENESS } from './precedence.ts';

/** ffmpeg reads the original's audio through this URL while it assembles. */
const sourceUrlTtlSeconds = 900;

/**
 * One rung whose chunks are all stored: its segments are fetched and concatenated by stream copy, the
 * audio is encoded once from the original, whole, and the faststart MP4 is published as a partial result
 * (`assembled`), like any rendition. The last failed attempt reports the rung failed, so the media settles
 * with the others. A media deleted or taken down (its stop mark) ends the job, with nothing reported.
 */
export function assembleHandler(deps: WorkerDeps) {
  return async (message: DeliveredMessage): Promise<void> => {
    if (!Value.Check(VideoAssembleJob, message.payload)) {
      throw new Error(`video assemble job ${message.id} breaks the contract`);
    }
    const job = message.payload;
    const { quality } = job.rendition;
    const log = deps.logger.child({ mediaId: job.mediaId, rung: quality, attempt: message.attempt });
    const started = performance.now();
    const timer = (deps.metrics ?? untimedWorker).job('assemble');
    const workDir = join(deps.config.worker.tempDir, message.id);
    const publish = publisher(deps.bus, job.mediaId, message);
    const result = (patch: Partial<OptimizeResult>): OptimizeResult => ({
      mediaId: job.mediaId,
      requestId: job.requestId,
      stage: 'chunked-output',
      success: true,
      processed: [],
      sha256: null,
      metadata: {},
      execution: executionReport(message, started),
      ...patch,
    });
    let outcome: JobOutcome = 'error';
    try {
      if (await isStopped(deps.storage, job.mediaId))
        throw new MediaStoppedError(`media ${job.mediaId} was stopped`);
      await mkdir(workDir, { recursive: true });
      const chunkFiles: string[] = [];
      await timer.step('download', async () => {
        for (const [i, key] of job.chunkKeys.entries()) {
          const path = join(workDir, `${i}.ts`);
          await downloadAndHash(deps.storage, key, path, deps.signal);
          chunkFiles.push(path);
        }
      });
      const audioSource = job.withAudio
        ? await deps.storage.presignGet(job.objectKey, sourceUrlTtlSeconds, 'internal')
        : undefined;
      const output = await timer.step('assemble', () =>
        untilStopped(deps.storage, job.mediaId, deps.signal, (signal) =>
          assembleRendition(
            chunkFiles,
            audioSource,
            job.rendition as PlannedRendition,
            join(workDir, `${quality}.mp4`),
            {
              ffmpegPath: deps.config.ffmpegPath,
              ffprobePath: deps.config.ffprobePath,
              signal,
              // A downloadable MP4: it yields the cores to any chunk a viewer is waiting for.
              niceness: BACKGROUND_NICENESS,
            },
          ),
        ),
      );
      const object = await timer.step('upload', () =>
        uploadOutput(
          deps.storage,
          deps.config.edgePublicUrl,
          { mediaId: job.mediaId, requestId: job.requestId },
          output,
          deps.signal,
        ),
      );
      await publish(
        derivedEventId(`${message.id}:assembled`),
        result({ processed: [object], progress: { [quality]: 1 } }),
      );
      outcome = 'done';
      log.info({ ms: Math.round(performance.now() - started) }, 'rendition assembled');
    } catch (error) {
      // Deleted or taken down: nothing to build nor to report, and no retry.
      if (error instanceof MediaStoppedError) {
        outcome = 'done';
        log.info('assembly stopped: media stopped');
        return;
      }
      if (message.attempt >= maxDeliveryAttempts && !deps.signal?.aborted) {
        const detail = `every attempt failed; last error: ${error instanceof Error ? error.message : String(error)}`;
        const failedOutputs = [{ quality, code: 'rendition_failed', detail: detail.slice(0, 1000) }];
        await publish(derivedEventId(`${message.id}:failed`), result({ failedOutputs })).catch(
          (publishError) => log.error({ err: publishError }, 'could not report a dead-lettered assembly'),
        );
      }
      throw error;
    } finally {
      timer.end(outcome);
      await rm(workDir, { recursive: true, force: true });
    }
  };
}
