import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { eventSchemaVersion, OptimizeRequest, type OptimizeResult, topics } from '../contracts/events.ts';
import { type Bus, type DeliveredMessage, maxDeliveryAttempts } from '../platform/bus/bus.ts';
import type { Clamd } from '../platform/clamav/clamd.ts';
import type { Config } from '../platform/config.ts';
import type { Logger } from '../platform/logger.ts';
import {
  type JobOutcome,
  type TimeStep,
  untimedWorker,
  type WorkerMetrics,
} from '../platform/metrics/pipeline.ts';
import type { ObjectStorage } from '../platform/storage/object-storage.ts';
import { inSpan, SpanKind, traceHeader } from '../platform/tracing/spans.ts';
import { step } from '../platform/tracing/steps.ts';
import { processAudioVisual } from './av/process-av.ts';
import { downloadAndHash } from './download.ts';
import { resultEventId } from './event-ids.ts';
import { executionReport } from './execution-report.ts';
import { processImage } from './image/process-image.ts';
import { MediaRejectedError } from './media-rejected-error.ts';
import {
  buildStills,
  coordinateChunkedVideo,
  dispatchBeforeDownload,
  isChunked,
  type ReportPartial,
} from './video/chunked/coordinate.ts';
import { isStopped, MediaStoppedError } from './video/chunked/media-stopped.ts';
import { quarantineIfInfected } from './virus-scan.ts';

export interface WorkerDeps {
  config: Config;
  storage: ObjectStorage;
  bus: Bus;
  logger: Logger;
  /** Present when CLAMAV_HOST is set: every original is scanned before any work on it. */
  clamd?: Clamd;
  /** Aborted at shutdown: running ffmpeg processes are killed and the job is redelivered elsewhere. */
  signal?: AbortSignal;
  /** Job and step durations, jobs in flight. */
  metrics?: WorkerMetrics;
}

/**
 * Handles one optimize request. Media-level failures (an undecodable file) become a `success: false`
 * result the API shows; infrastructure failures throw so the bus retries the whole request. Every
 * derivative key is specific to this request, so a retry overwrites only its own half-finished work.
 */
export function optimizeHandler(deps: WorkerDeps) {
  return async (message: DeliveredMessage): Promise<void> => {
    if (!Value.Check(OptimizeRequest, message.payload)) {
      throw new Error(`optimize request ${message.id} breaks the contract`);
    }
    const request = message.payload;
    const workDir = join(deps.config.worker.tempDir, message.id);
    const log = deps.logger.child({
      mediaId: request.mediaId,
      requestId: message.id,
      attempt: message.attempt,
    });
    const started = performance.now();
    const job = (deps.metrics ?? untimedWorker).job(request.kind);
    const time: TimeStep = (name, work) => step(name, () => job.step(name, work));
    let outcome: JobOutcome = 'error';
    await mkdir(workDir, { recursive: true });
    const publish = publisher(deps.bus, request.mediaId, message);
    const reportWith = (sha256: string | null) => (partial: Partial<OptimizeResult>) =>
      publish(randomUUID(), {
        mediaId: request.mediaId,
        requestId: message.id,
        success: true,
        sha256,
        metadata: {},
        processed: [],
        ...partial,
      });
    try {
      const traceparent = message.headers.traceparent;
      const dispatched =
        isChunked(deps.config, request) && !deps.clamd
          ? await dispatchBeforeDownload(
              { ...deps, time },
              request,
              message.id,
              traceparent,
              reportWith(null),
            )
          : undefined;
      const original = join(workDir, 'original');
      const { sha256 } = await time('download', () =>
        downloadAndHash(deps.storage, request.objectKey, original, deps.signal),
      );
      const { clamd } = deps;
      if (
        clamd &&
        (await time('scan', () => quarantineIfInfected({ ...deps, clamd }, request, message.id, original)))
      ) {
        outcome = 'malware';
        log.warn('malware found; original deleted');
        return;
      }
      let result: OptimizeResult;
      const report = reportWith(sha256);
      if (dispatched) {
        if (await isStopped(deps.storage, request.mediaId))
          throw new MediaStoppedError(`media ${request.mediaId} was stopped`);
        await buildStills({ ...deps, time }, request, message.id, original, workDir, dispatched, report);
        outcome = 'done';
        log.info({ ms: Math.round(performance.now() - started) }, 'video coordinated');
        return;
      }
      try {
        const built = await build(deps, time, request, message.id, original, workDir, message, report);
        if (!built) {
          // Chunk jobs carry on; the API settles the media when their rungs are assembled.
          outcome = 'done';
          log.info({ ms: Math.round(performance.now() - started) }, 'video coordinated');
          return;
        }
        result = {
          mediaId: request.mediaId,
          requestId: message.id,
          success: true,
          sha256,
          ...built,
          execution: executionReport(message, started),
        };
      } catch (error) {
        // After a shutdown, whatever a step made of the abort, the request goes back to the bus untouched.
        if (!(error instanceof MediaRejectedError) || deps.signal?.aborted) throw error;
        result = {
          mediaId: request.mediaId,
          requestId: message.id,
          success: false,
          processed: [],
          sha256,
          metadata: {},
          error: { code: error.code, detail: error.message },
          execution: executionReport(message, started),
        };
      }
      await inSpan(`send ${topics.optimizeResult}`, { kind: SpanKind.PRODUCER }, () =>
        publish(resultEventId(message.id), result),
      );
      outcome = 'done';
      log.info({ success: result.success, ms: Math.round(performance.now() - started) }, 'optimized');
    } catch (error) {
      // A video deleted or taken down meanwhile: its original may be gone already, and nobody waits.
      if (
        request.kind === 'video' &&
        !deps.signal?.aborted &&
        (error instanceof MediaStoppedError || (await isStopped(deps.storage, request.mediaId)))
      ) {
        outcome = 'done';
        log.info({ ms: Math.round(performance.now() - started) }, 'video request ended: media stopped');
        return;
      }
      if (message.attempt >= maxDeliveryAttempts && !deps.signal?.aborted) {
        await reportDeadLettered(publish, request, message.id, error, log);
      }
      throw error;
    } finally {
      job.end(outcome);
      await rm(workDir, { recursive: true, force: true });
    }
  };
}

async function build(
  deps: WorkerDeps,
  time: TimeStep,
  request: OptimizeRequest,
  requestId: string,
  original: string,
  workDir: string,
  message: DeliveredMessage,
  report: ReportPartial,
) {
  const chunked =
    isChunked(deps.config, request) &&
    (await coordinateChunkedVideo(
      { ...deps, time },
      request,
      requestId,
      original,
      workDir,
      message.headers.traceparent,
      report,
    ));
  if (chunked) return undefined;
  if (request.kind === 'image') {
    return processImage(
      { config: deps.config, storage: deps.storage, time, signal: deps.signal },
      request,
      requestId,
      original,
      workDir,
    );
  }
  return processAudioVisual({ ...deps, time }, request, requestId, original, workDir, report);
}

/**
 * The bus parks a request after its last attempt fails, where nobody would tell the API: the media would
 * stay `processing` for ever. So the last attempt says so first, as a failed result. It gets an id of its
 * own: after a redrive, the real result (with the id derived from the request's) must still count.
 */
async function reportDeadLettered(
  publish: ReturnType<typeof publisher>,
  request: OptimizeRequest,
  requestId: string,
  error: unknown,
  log: Logger,
): Promise<void> {
  const detail = `every attempt failed; last error: ${error instanceof Error ? error.message : String(error)}`;
  try {
    await publish(randomUUID(), {
      mediaId: request.mediaId,
      requestId,
      success: false,
      processed: [],
      sha256: null,
      metadata: {},
      error: { code: 'processing_dead_lettered', detail: detail.slice(0, 1000) },
    });
  } catch (publishError) {
    // The request is parked anyway; the media shows up in the stuck-processing list instead.
    log.error({ err: publishError }, 'could not report a dead-lettered request');
  }
}

/** Results continue the request's trace; the final one has an id derived from the request's. */
export function publisher(bus: Bus, mediaId: string, request: DeliveredMessage) {
  return (id: string, payload: OptimizeResult) =>
    bus.publish(topics.optimizeResult, [
      {
        id,
        key: mediaId,
        type: 'media.optimize.result',
        payload,
        headers: {
          'event-type': 'media.optimize.result',
          'schema-version': eventSchemaVersion,
          ...traceHeader(request.headers.traceparent),
        },
      },
    ]);
}
