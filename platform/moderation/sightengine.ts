import axios from 'axios';
import { type CallbackClaim, formatJobRef, mintNonce } from './callback-token.ts';
import { type ModerationInput, ModerationVendorError, type Moderator } from './moderation.ts';
import type { SightengineVideoClient } from './sightengine-video.ts';
import { maxScores, scoreTable, type Thresholds, verdictFromScores } from './thresholds.ts';
import { toVendorError } from './vendor-error.ts';

/*
 * Sightengine image moderation (https://sightengine.com/docs/reference, .../api-error-codes-and-responses):
 *   POST {base}/check.json, multipart/form-data: media=<file> | url=<public url>, models=<comma list>,
 *   api_user, api_secret.
 *   Success: { status: "success", request: {id, timestamp, operations},
 *              nudity: { sexual_activity, sexual_display, erotica, very_suggestive, suggestive,
 *                        mildly_suggestive, suggestive_classes: { bikini, lingerie, cleavage_categories:
 *                        {...}, ... }, none, context: {...} },
 *              weapon: { classes: { firearm, firearm_gesture, firearm_toy, knife }, firearm_type: {animated},
 *                        firearm_action: {...} },
 *              gore: { prob, classes: { very_bloody, ... }, type: { animated, fake, real } },
 *              media: {id, uri} }
 *   Failure: { status: "failure", request: {...}, error: { type, code, message } } with a 4xx/5xx status.
 * One image per call: a video's sampled frames are sent in parallel and judged by their worst scores.
 */

export const sightengineDefaultBaseUrl = 'https://api.sightengine.com/1.0';
export const sightengineDefaultModels: readonly string[] = ['nudity-2.1', 'weapon', 'gore-2.0'];

/** A starting policy for a general audience; every deployment should set its own. */
export const sightengineDefaultThresholds: Thresholds = {
  'nudity.sexual_activity': 0.5,
  'nudity.sexual_display': 0.5,
  'nudity.erotica': 0.7,
  'weapon.firearm': 0.7,
  gore: 0.6,
};

export interface SightengineOptions {
  apiUser: string;
  apiSecret: string;
  baseUrl?: string;
  models?: readonly string[];
  thresholds?: Thresholds;
  /** Deferred (long) videos go to the asynchronous video API, with a callback URL minted per job. */
  video?: { client: SightengineVideoClient; callbackUrl: (claim: CallbackClaim) => string };
}

type Media = { blob: Blob; filename: string } | { url: string };
type Reply = { status?: unknown; error?: { type?: unknown; message?: unknown } } & Record<string, unknown>;

export function createSightengineModerator(options: SightengineOptions): Moderator {
  const name = 'sightengine';
  const baseUrl = (options.baseUrl ?? sightengineDefaultBaseUrl).replace(/\/+$/, '');
  const models = (options.models ?? sightengineDefaultModels).join(',');
  const thresholds = options.thresholds ?? sightengineDefaultThresholds;
  const http = axios.create({ maxRedirects: 0 });

  const check = async (media: Media, signal: AbortSignal | undefined) => {
    const form = new FormData();
    if ('url' in media) form.append('url', media.url);
    else form.append('media', media.blob, media.filename);
    form.append('models', models);
    form.append('api_user', options.apiUser);
    form.append('api_secret', options.apiSecret);
    let reply: Reply;
    try {
      reply = (await http.post<Reply>(`${baseUrl}/check.json`, form, { signal })).data;
    } catch (error) {
      throw toVendorError(name, error, describeFailure);
    }
    if (reply?.status !== 'success') {
      // A failure inside a 200: only Sightengine's own trouble is worth another try.
      const type = reply?.error?.type;
      throw new ModerationVendorError(name, describeFailure(reply) ?? 'unreadable reply', {
        retryable: type === 'api_error' || type === 'unknown_error',
      });
    }
    return sightengineScores(reply);
  };

  return {
    name,
    async judge(input, judgeOptions) {
      if (input.deferred && input.kind === 'video' && input.url && options.video) {
        const nonce = mintNonce();
        const callbackUrl = options.video.callbackUrl({ mediaId: input.mediaId, nonce });
        const vendorMediaId = await options.video.client.submit(input.url, callbackUrl, judgeOptions?.signal);
        return { decision: 'pending', vendorJobId: formatJobRef({ vendorMediaId, nonce, attempt: 1 }) };
      }
      const media = mediaToSend(input);
      if (media.length === 0) return { decision: 'allow' };
      const scores = await Promise.all(media.map((m) => check(m, judgeOptions?.signal)));
      return verdictFromScores(maxScores(scores), thresholds);
    },
  };
}

/**
 * The bytes we already hold when there are any (no second download, nothing public); else an image's
 * presigned URL, which Sightengine fetches itself. Audio and a video without frames have nothing an image
 * model can judge.
 */
function mediaToSend(input: ModerationInput): Media[] {
  if (input.images.length > 0) {
    return input.images.map((image) => ({
      blob: new Blob([new Uint8Array(image.bytes)], { type: image.contentType }),
      filename: `media.${image.contentType.split('/')[1] ?? 'bin'}`,
    }));
  }
  return input.kind === 'image' && input.url ? [{ url: input.url }] : [];
}

/**
 * Flattens a reply to dotted names: `weapon.classes.firearm` → `weapon.firearm`,
 * `nudity.suggestive_classes.lingerie` → `nudity.lingerie`, `gore.prob` → `gore`, `nudity.sexual_activity`
 * stays. Bookkeeping fields (status, request, media) are dropped.
 */
const transparent = new Set(['classes', 'suggestive_classes', 'prob']);

export function sightengineScores(reply: Record<string, unknown>): Record<string, number> {
  const scores = new Map<string, number>();
  const walk = (value: unknown, path: string[]) => {
    if (typeof value === 'number') {
      scores.set(path.join('.'), value);
      return;
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) return;
    for (const [key, child] of Object.entries(value)) {
      walk(child, transparent.has(key) ? path : [...path, key]);
    }
  };
  for (const [model, value] of Object.entries(reply)) {
    if (model !== 'status' && model !== 'request' && model !== 'media') walk(value, [model]);
  }
  return scoreTable(scores);
}

export function describeFailure(body: unknown): string | undefined {
  const error = (body as Reply | undefined)?.error;
  if (!error || typeof error !== 'object') return undefined;
  return `${String(error.type ?? 'error')}: ${String(error.message ?? '')}`;
}
