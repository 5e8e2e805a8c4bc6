import { join } from 'node:path';
import type { ProcessingFailureCode } from '../../contracts/errors.ts';
import type { OptimizeRequest, OptimizeResult, ProcessedObject } from '../../contracts/events.ts';
import type { Config } from '../../platform/config.ts';
import type { MediaProbe } from '../../platform/media/probe.ts';
import type { FfmpegProgress } from '../../platform/media/run-ffmpeg.ts';
import type { TimeStep } from '../../platform/metrics/pipeline.ts';
import type { ObjectStorage } from '../../platform/storage/object-storage.ts';
import type { AudioQuality } from '../audio/plan.ts';
import { processAudio, retryAudioRendition } from '../audio/process-audio.ts';
import type { MediaOutput } from '../ffmpeg/outputs.ts';
import { type RungName, rungsOf } from '../video/plan.ts';
import { processVideo, retryVideoRendition } from '../video/process-video.ts';
import { uploadOutput } from './upload-output.ts';

export type PublishPartial = (
  partial: Pick<OptimizeResult, 'stage' | 'processed' | 'progress'>,
) => Promise<void>;

type FailedOutput = NonNullable<OptimizeResult['failedOutputs']>[number];

const progressEveryMs = 1000;
// Every other step is a rendition (`low`, `480p`, …: the ladder is configured), retried once on its own.
const notRenditions = new Set(['poster', 'thumbnails', 'hls']);
const isRendition = (quality: string): quality is RungName =>
  !notRenditions.has(quality) && !quality.startsWith('thumbnail');

/**
 * Video and audio: every output is uploaded and reported as a partial result the moment it exists (the
 * poster and the lowest rendition come first, so the media plays while higher renditions encode), with
 * per-rendition progress. A rendition that fails is retried once on its own; if it fails again the
 * others stay published and the failure is reported with the final result.
 */
export async function processAudioVisual(
  deps: { config: Config; storage: ObjectStorage; signal?: AbortSignal; time?: TimeStep },
  request: OptimizeRequest,
  requestId: string,
  original: string,
  workDir: string,
  publish: PublishPartial,
): Promise<Pick<OptimizeResult, 'processed' | 'metadata' | 'failedOutputs'>> {
  const outDir = join(workDir, 'out');
  const { ffmpegPath, ffprobePath } = deps.config;
  const options = { ffmpegPath, ffprobePath, signal: deps.signal };
  const videoOptions = { ...options, ladder: rungsOf(deps.config.video.ladder) };
  const processed: ProcessedObject[] = [];
  const lastProgress = new Map<string, number>();
  const queue = outputQueue(deps.signal);
  const { enqueue } = queue;
  const time: TimeStep = deps.time ?? ((_step, work) => work());
  const onOutput = (output: MediaOutput) =>
    enqueue(async () => {
      const object = await time('upload', () =>
        uploadOutput(
          deps.storage,
          deps.config.edgePublicUrl,
          { mediaId: request.mediaId, requestId },
          output,
          deps.signal,
        ),
      );
      processed.push(object);
      const done = isRendition(object.quality) ? { [object.quality]: 1 } : undefined;
      await publish({ stage: 'partial', processed: [object], progress: done });
    });
  const onProgress = (quality: string, progress: FfmpegProgress) => {
    const now = Date.now();
    if (progress.fraction === undefined || now - (lastProgress.get(quality) ?? 0) < progressEveryMs) return;
    lastProgress.set(quality, now);
    const fraction = Math.min(0.99, Math.round(progress.fraction * 100) / 100);
    enqueue(() => publish({ stage: 'progress', processed: [], progress: { [quality]: fraction } }));
  };

  const events = { onOutput, onProgress, timeStep: time };
  const failedOutputs: (FailedOutput & { code: ProcessingFailureCode })[] = [];
  let result: Awaited<ReturnType<typeof processVideo | typeof processAudio>>;
  try {
    result =
      request.kind === 'video'
        ? await processVideo(original, outDir, videoOptions, events)
        : await processAudio(original, outDir, options, events);
    for (const failure of result.failures) {
      if (!isRendition(failure.step)) {
        failedOutputs.push({ quality: failure.step, code: 'output_failed', detail: describe(failure.error) });
        continue;
      }
      try {
        const retried =
          request.kind === 'video'
            ? await retryVideoRendition(original, outDir, failure.step, videoOptions, onProgress)
            : await retryAudioRendition(original, outDir, failure.step as AudioQuality, options, onProgress);
        onOutput(retried);
      } catch (error) {
        if (deps.signal?.aborted) throw error;
        failedOutputs.push({ quality: failure.step, code: 'rendition_failed', detail: describe(error) });
      }
    }
  } finally {
    // Whatever ended the encodes, the uploads they started end first: their files live in `workDir`.
    await queue.drained();
  }
  queue.throwIfFailed();
  return { processed, metadata: mediaMetadata(result.probe), failedOutputs };
}

/** What the media's metadata says of its streams (a JSON object: absent facts are left out). */
export function mediaMetadata(probe: MediaProbe): Record<string, unknown> {
  const metadata = {
    container: probe.container,
    durationSeconds: probe.durationSeconds,
    bitrate: probe.bitrate,
    width: probe.video?.displayWidth,
    height: probe.video?.displayHeight,
    videoCodec: probe.video?.codec,
    audioCodec: probe.audio?.codec,
  };
  return JSON.parse(JSON.stringify(metadata));
}

/**
 * Uploads and reports run one at a time, in order, behind the encoder, so partial results arrive in the
 * order made. The first failure (or the shutdown) skips the rest and is kept for the end, never left as a
 * rejection nobody awaits: that would end the process while encodes run.
 */
function outputQueue(signal: AbortSignal | undefined) {
  let tail: Promise<void> = Promise.resolve();
  let failure: { error: unknown } | undefined;
  return {
    enqueue(work: () => Promise<void>): void {
      tail = tail.then(async () => {
        if (failure || signal?.aborted) return;
        try {
          await work();
        } catch (error) {
          failure = { error };
        }
      });
    },
    drained: () => tail,
    throwIfFailed(): void {
      signal?.throwIfAborted();
      if (failure) throw failure.error;
    },
  };
}

function describe(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 500);
}
