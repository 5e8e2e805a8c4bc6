import axios from 'axios';
import { type CallbackClaim, callbackToken } from './callback-token.ts';
import { type ModerationCategory, ModerationVendorError, type Verdict } from './moderation.ts';
import { describeFailure, sightengineScores } from './sightengine.ts';
import { maxScores, type Thresholds, verdictFromScores } from './thresholds.ts';
import { toVendorError } from './vendor-error.ts';

/*
 * Sightengine's stored-video moderation, asynchronous (https://sightengine.com/docs/moderate-stored-video-
 * asynchronously, .../receive-video-moderation-callbacks, .../interact-with-video-moderation-jobs):
 *   submit: POST {base}/video/check.json, multipart: stream_url=<url the vendor downloads> | media=<file>,
 *           models, callback_url, api_user, api_secret
 *           → { status: "success", request: {id, timestamp, operations}, media: {id, uri}, callback }
 *   callback: POST callback_url, JSON { media: {id, uri}, request, data: { status: "ongoing" | "finished" |
 *           "stopped" | "failure", started, last_update, operations, progress?, frames: [{ info: {id,
 *           position}, nudity: {...}, weapon: {...}, gore: {...} }], error? } } — unsigned, sent on progress,
 *           on "interesting" frames and at the end; retried on failure.
 *   status: GET {base}/video/byid.json?id=<media.id>&api_user&api_secret
 *           → { status: "success", request, output: { media, request, data: {same as the callback} } }
 * Frames carry the same model sections as an image reply, so a job is judged by its worst frame.
 */

export type VideoJobStatus = 'ongoing' | 'finished' | 'failure';

export interface VideoJob {
  status: VideoJobStatus;
  vendorMediaId: string;
  /** Per-frame scores, flattened like an image reply's. */
  frames: Record<string, number>[];
  error?: string;
}

export interface SightengineVideoOptions {
  apiUser: string;
  apiSecret: string;
  baseUrl: string;
  models: readonly string[];
  timeoutMs: number;
}

export interface SightengineVideoClient {
  /** Opens a job; resolves to the vendor's media id, which names the job from then on. */
  submit(streamUrl: string, callbackUrl: string, signal?: AbortSignal): Promise<string>;
  /** The job as the vendor holds it: the only source of a verdict, whatever a callback claimed. */
  status(vendorMediaId: string): Promise<VideoJob>;
}

const name = 'sightengine';

export function createSightengineVideoClient(options: SightengineVideoOptions): SightengineVideoClient {
  const base = options.baseUrl.replace(/\/+$/, '');
  const http = axios.create({ maxRedirects: 0, timeout: options.timeoutMs });
  const credentials = { api_user: options.apiUser, api_secret: options.apiSecret };
  return {
    async submit(streamUrl, callbackUrl, signal) {
      const form = new FormData();
      form.append('stream_url', streamUrl);
      form.append('models', options.models.join(','));
      form.append('callback_url', callbackUrl);
      for (const [key, value] of Object.entries(credentials)) form.append(key, value);
      const reply = await call(() => http.post(`${base}/video/check.json`, form, { signal }));
      const id = (reply.media as { id?: unknown } | undefined)?.id;
      if (typeof id !== 'string' || id === '') {
        throw new ModerationVendorError(name, 'video submission answered without media.id', {
          retryable: false,
        });
      }
      return id;
    },
    async status(vendorMediaId) {
      const reply = await call(() =>
        http.get(`${base}/video/byid.json`, { params: { id: vendorMediaId, ...credentials } }),
      );
      const job = readVideoJob(reply.output);
      if (!job) throw new ModerationVendorError(name, 'unreadable video status', { retryable: false });
      return job;
    },
  };
}

async function call(send: () => Promise<{ data: unknown }>): Promise<Record<string, unknown>> {
  let body: unknown;
  try {
    body = (await send()).data;
  } catch (error) {
    throw toVendorError(name, error, describeFailure);
  }
  const reply = (body ?? {}) as Record<string, unknown>;
  if (reply.status !== 'success') {
    const type = (reply.error as { type?: unknown } | undefined)?.type;
    throw new ModerationVendorError(name, describeFailure(reply) ?? 'unreadable reply', {
      retryable: type === 'api_error' || type === 'unknown_error',
    });
  }
  return reply;
}

/**
 * A callback body, or a status reply's `output`: `{ media: {id}, data: {status, frames} }`. Undefined when
 * it does not name a job. `stopped` (the job was ended early) is treated like `finished`: the frames read
 * so far are the evidence there is.
 */
export function readVideoJob(body: unknown): VideoJob | undefined {
  if (!isObject(body) || !isObject(body.media) || !isObject(body.data)) return undefined;
  const vendorMediaId = body.media.id;
  const raw = body.data.status;
  if (typeof vendorMediaId !== 'string' || typeof raw !== 'string') return undefined;
  const status: VideoJobStatus | undefined =
    raw === 'finished' || raw === 'stopped'
      ? 'finished'
      : raw === 'failure'
        ? 'failure'
        : raw === 'ongoing'
          ? 'ongoing'
          : undefined;
  if (!status) return undefined;
  const frames = Array.isArray(body.data.frames) ? body.data.frames.filter(isObject).map(frameScores) : [];
  const error = isObject(body.data.error) ? describeFailure({ error: body.data.error }) : undefined;
  return { status, vendorMediaId, frames, ...(error ? { error } : {}) };
}

/** A frame is an image reply plus `info` (its id and position), which is no score. */
function frameScores(frame: Record<string, unknown>): Record<string, number> {
  const { info: _info, ...models } = frame;
  return sightengineScores(models);
}

/** A finished job is as unsafe as its worst frame; undefined while there is no verdict. */
export function videoVerdict(job: VideoJob, thresholds: Thresholds): Verdict | undefined {
  if (job.status !== 'finished') return undefined;
  return verdictFromScores(maxScores(job.frames), thresholds);
}

export function describeCategories(categories: readonly ModerationCategory[]): string {
  return categories.map((c) => `${c.name} ${c.score.toFixed(2)}`).join(', ');
}

export function callbackUrlFor(apiPublicUrl: string, secret: string, claim: CallbackClaim): string {
  return `${apiPublicUrl.replace(/\/+$/, '')}/v1/webhooks/moderation/sightengine/${callbackToken(secret, claim)}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
