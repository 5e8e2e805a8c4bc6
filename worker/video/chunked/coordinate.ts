import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type ChunkPlan,
  type ChunkRendition,
  eventSchemaVersion,
  type OptimizeRequest,
  type OptimizeResult,
  topics,
  type VideoChunkJob,
} from '../../../contracts/events.ts';
import type { Bus, BusMessage } from '../../../platform/bus/bus.ts';
import type { Config } from '../../../platform/config.ts';
import type { Logger } from '../../../platform/logger.ts';
import { type MediaProbe, probeMedia } from '../../../platform/media/probe.ts';
import { isRemote } from '../../../platform/media/url-reads.ts';
import type { TimeStep } from '../../../platform/metrics/pipeline.ts';
import type { ObjectStorage } from '../../../platform/storage/object-storage.ts';
import { traceHeader } from '../../../platform/tracing/spans.ts';
import { mediaMetadata } from '../../av/process-av.ts';
import { uploadOutput } from '../../av/upload-output.ts';
import { derivedEventId } from '../../event-ids.ts';
import type { MediaOutput } from '../../ffmpeg/outputs.ts';
import { ffprobeFile, KEYFRAME_WINDOW_SECONDS } from '../../ffmpeg/probe.ts';
import type { ChunkSpan } from '../chunks/plan-chunks.ts';
import { type PlannedRendition, planVideo, rungsOf, type VideoPlan } from '../plan.ts';
import { buildPoster, buildThumbnailCandidates } from '../renditions.ts';
import { planSpans, sampleKeyframesEarly } from './plan-spans.ts';
import { BACKGROUND_NICENESS, firstChunkStored, LEAD_NICENESS } from './precedence.ts';

export interface CoordinatorDeps {
  config: Config;
  storage: ObjectStorage;
  bus: Bus;
  logger: Logger;
  time: TimeStep;
  signal?: AbortSignal;
}

/** Publishes a partial result of the coordinating request (fields beyond the request's own). */
export type ReportPartial = (partial: Partial<OptimizeResult>) => Promise<void>;

/** ffmpeg reads the original through this URL while the coordinator plans, before its own download. */
const sourceUrlTtlSeconds = 900;

export function isChunked(config: Config, request: OptimizeRequest): boolean {
  return request.kind === 'video' && config.video.chunkSeconds > 0;
}

/**
 * The coordinator of a chunked video: the optimize request, after download, hash and scan. It plans the
 * chunks, tells the API the plan, hands the encoding to the fleet as chunk jobs, then builds the poster
 * and thumbnails as today. Returns `false` (build it whole) when the video is one chunk long: splitting it
 * would buy no parallelism. A redelivered coordinator republishes the same jobs under the same ids; chunk
 * jobs find their finished segments in storage and do not encode them again.
 */
export async function coordinateChunkedVideo(
  deps: CoordinatorDeps,
  request: OptimizeRequest,
  requestId: string,
  original: string,
  workDir: string,
  traceparent: string | undefined,
  report: ReportPartial,
): Promise<boolean> {
  const plan = await dispatchChunks(deps, request, requestId, original, traceparent, report);
  if (!plan) return false;
  await buildStills(deps, request, requestId, original, workDir, plan, report);
  return true;
}

/**
 * With no scanner to wait for, the chunk jobs go out before the coordinator downloads the original (for its
 * hash and stills): planned from a presigned URL, so the first chunk plays as soon for a 10-minute video as
 * for a 30-second one; the download waits until the first chunk is stored (firstChunkStored). Any
 * failure but a shutdown leaves it to the download path, which plans again from the file and reports a
 * fault of the media itself with its hash.
 */
export async function dispatchBeforeDownload(
  deps: CoordinatorDeps,
  request: OptimizeRequest,
  requestId: string,
  traceparent: string | undefined,
  report: ReportPartial,
): Promise<VideoPlan | undefined> {
  let plan: VideoPlan | undefined;
  try {
    const source = await deps.storage.presignGet(request.objectKey, sourceUrlTtlSeconds, 'internal');
    plan = await dispatchChunks(deps, request, requestId, source, traceparent, report);
  } catch (error) {
    deps.signal?.throwIfAborted();
    deps.logger.warn(
      { err: error, mediaId: request.mediaId },
      'video not planned from storage; downloading first',
    );
    return undefined;
  }
  if (plan) await firstChunkStored(deps, { mediaId: request.mediaId, requestId }, plan);
  return plan;
}

/** Plans the chunks of `input` (a path or URL), reports the plan, publishes the jobs; undefined: one chunk. */
async function dispatchChunks(
  deps: CoordinatorDeps,
  request: OptimizeRequest,
  requestId: string,
  input: string,
  traceparent: string | undefined,
  report: ReportPartial,
): Promise<VideoPlan | undefined> {
  const { ffmpegPath, ffprobePath } = deps.config;
  const options = { ffmpegPath, ffprobePath, signal: deps.signal };
  const ladder = rungsOf(deps.config.video.ladder);
  const probeOptions = { ...options, keyframeWindowSeconds: KEYFRAME_WINDOW_SECONDS };
  // Each step is logged with the media's id: bench:video's timeline reads them.
  const log = deps.logger.child({ mediaId: request.mediaId, requestId });
  log.info('video coordinator planning');
  const target = deps.config.video.chunkSeconds;
  const early = sampleKeyframesEarly(input, request.probe, target, options);
  const probe = isRemote(input)
    ? await probeMedia(input, probeOptions)
    : await ffprobeFile(input, probeOptions);
  log.info('video probed');
  // MPEG-TS carries no display matrix: a copied rung of a turned (phone) video would play sideways in
  // HLS, so such a video's rungs are all encoded upright.
  const turned = (probe.video?.rotation ?? 0) !== 0;
  const plan = planVideo(probe, { ladder, ...(turned ? { remuxMaxBitrateRatio: 0 } : {}) });
  const spans = await planSpans(input, probe, plan, target, options, early);
  log.info({ chunks: spans.length }, 'video chunks planned');
  if (spans.length < 2) return undefined;
  // The API learns the plan before any chunk can finish, so it knows what completes each rung; then the
  // jobs go out at once: the stills would only delay the first playable chunk.
  await report({
    stage: 'chunk-plan',
    chunkPlan: chunkPlanOf(spans, plan, probe, ladder, 1 + plan.thumbnails.atSeconds.length),
    metadata: mediaMetadata(probe),
  });
  const jobs = chunkJobs(request, requestId, spans, plan.renditions, probe);
  await deps.bus.publish(
    topics.videoChunk,
    jobs.map((job) => chunkMessage(job, requestId, traceparent)),
  );
  log.info({ chunks: spans.length, jobs: jobs.length }, 'video handed to the fleet in chunks');
  return plan;
}

/**
 * The poster and thumbnails, from the downloaded original. Each is reported built or failed (the media
 * settles once all are): a video whose poster cannot be cut still plays, as in the whole-file pipeline.
 */
export async function buildStills(
  deps: CoordinatorDeps,
  request: OptimizeRequest,
  requestId: string,
  original: string,
  workDir: string,
  plan: VideoPlan,
  report: ReportPartial,
): Promise<void> {
  const { ffmpegPath, ffprobePath } = deps.config;
  const options = { ffmpegPath, ffprobePath, signal: deps.signal, niceness: BACKGROUND_NICENESS };
  const outDir = join(workDir, 'out');
  await mkdir(outDir, { recursive: true });
  const ids = { mediaId: request.mediaId, requestId };
  deps.logger.info(ids, 'video stills started');
  const still = async (
    step: 'poster' | 'thumbnails',
    qualities: string[],
    build: () => Promise<MediaOutput[]>,
  ) => {
    try {
      for (const output of await deps.time(step, build)) {
        const object = await deps.time('upload', () =>
          uploadOutput(deps.storage, deps.config.edgePublicUrl, ids, output, deps.signal),
        );
        await report({ stage: 'chunked-output', processed: [object] });
      }
    } catch (error) {
      deps.signal?.throwIfAborted();
      const detail = (error instanceof Error ? error.message : String(error)).slice(0, 500);
      const failedOutputs = qualities.map((quality) => ({ quality, code: 'output_failed', detail }));
      await report({ stage: 'chunked-output', failedOutputs });
    }
  };
  await still('poster', ['poster'], async () => [
    await buildPoster(original, join(outDir, 'poster.webp'), plan.poster, options),
  ]);
  const thumbnails = plan.thumbnails.atSeconds.map((_, i) => `thumbnail-${i + 1}`);
  if (thumbnails.length > 0)
    await still('thumbnails', thumbnails, () =>
      buildThumbnailCandidates(original, outDir, plan.thumbnails, options),
    );
}

/**
 * The lowest rung's job for every chunk first, in order, so it plays soonest; then one job per chunk for
 * every other rung together: one decode of the source feeds them all, where a job per rung would decode
 * the 1080p source once per rung.
 */
function chunkJobs(
  request: OptimizeRequest,
  requestId: string,
  spans: ChunkSpan[],
  renditions: PlannedRendition[],
  probe: MediaProbe,
): VideoChunkJob[] {
  const [lowest, ...rest] = renditions;
  const groups = lowest ? [[lowest], ...(rest.length > 0 ? [rest] : [])] : [];
  return groups.flatMap((group, g) =>
    spans.map((span) => ({
      mediaId: request.mediaId,
      requestId,
      objectKey: request.objectKey,
      span,
      chunkCount: spans.length,
      renditions: group.map(chunkRendition),
      withAudio: probe.audio !== undefined,
      sourceRotation: probe.video?.rotation ?? 0,
      niceness: g > 0 ? BACKGROUND_NICENESS : span.index === 0 ? 0 : LEAD_NICENESS,
    })),
  );
}

function chunkPlanOf(
  spans: ChunkSpan[],
  plan: VideoPlan,
  probe: MediaProbe,
  ladder: ReturnType<typeof rungsOf>,
  stillCount: number,
): ChunkPlan {
  return {
    chunkSeconds: spans.map((span) => Math.round((span.endSeconds - span.startSeconds) * 1e6) / 1e6),
    rungs: plan.renditions.map((rendition) => {
      const spec = ladder.find((rung) => rung.quality === rendition.quality);
      const planned = spec ? spec.videoBitrate + spec.audioBitrate : undefined;
      // A copied rung carries the source's own bitrate.
      const bandwidth = rendition.mode === 'remux' ? (probe.bitrate ?? planned) : planned;
      return {
        rendition: chunkRendition(rendition),
        bandwidth: Math.max(1, Math.round(bandwidth ?? 1_000_000)),
      };
    }),
    withAudio: probe.audio !== undefined,
    stillCount,
  };
}

function chunkRendition({ quality, mode, width, height, outputArgs }: PlannedRendition): ChunkRendition {
  return { quality, mode, width, height, outputArgs };
}

/**
 * Keyed by chunk, not by media: a media's key would put every chunk on one partition, so one worker would
 * encode the whole video. The id is derived, so a republished job is recognisably the same one.
 */
function chunkMessage(job: VideoChunkJob, requestId: string, traceparent: string | undefined): BusMessage {
  const group = job.renditions.map((rendition) => rendition.quality).join('+');
  return {
    id: derivedEventId(`${requestId}:chunk:${job.span.index}:${group}`),
    key: `${job.mediaId}:${job.span.index}`,
    type: 'media.video.chunk',
    payload: job,
    headers: {
      'event-type': 'media.video.chunk',
      'schema-version': eventSchemaVersion,
      ...traceHeader(traceparent),
    },
  };
}
