import axios from 'axios';
import { ModerationVendorError, type Moderator, type Verdict } from './moderation.ts';
import { type Thresholds, verdictFromScores } from './thresholds.ts';
import { toVendorError } from './vendor-error.ts';

/*
 * Contract of an in-house moderation model (MODERATION_URL):
 *
 *   POST <url>
 *   Content-Type: application/json
 *   Authorization: Bearer <token>                      (only when a token is configured)
 *   { "mediaId": "<uuid>", "kind": "image" | "video" | "audio", "contentHash": "<hash>",
 *     "url": "<presigned GET, may be absent>",
 *     "images": [{ "contentType": "image/jpeg", "dataBase64": "<bytes>" }] }   (frames, for a video)
 *
 *   200 { "categories": { "<name>": <score 0..1>, ... } }    judged now; our thresholds decide
 *   200 or 202 { "pending": true, "jobId": "<id>" }          judged later; the verdict arrives on
 *                                                            POST /v1/webhooks/moderation
 *   429 or 5xx, with Retry-After when known                  transient: retried, then 503 to the client
 *   any other 4xx                                            our request is wrong: not retried
 */

export interface GenericHttpModeratorOptions {
  url: string;
  thresholds: Thresholds;
  token?: string;
  /** Names the vendor in logs and errors; defaults to the host of `url`. */
  name?: string;
}

type Reply = { categories?: unknown; pending?: unknown; jobId?: unknown };

export function createGenericHttpModerator(options: GenericHttpModeratorOptions): Moderator {
  const name = options.name ?? `http moderation at ${new URL(options.url).host}`;
  const http = axios.create({
    headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
    // A redirect would carry the images somewhere nobody configured.
    maxRedirects: 0,
  });
  return {
    name,
    async judge(input, judgeOptions) {
      const body = {
        mediaId: input.mediaId,
        kind: input.kind,
        contentHash: input.contentHash,
        url: input.url,
        images: input.images.map((image) => ({
          contentType: image.contentType,
          dataBase64: image.bytes.toString('base64'),
        })),
      };
      let reply: Reply;
      try {
        reply = (await http.post<Reply>(options.url, body, { signal: judgeOptions?.signal })).data;
      } catch (error) {
        throw toVendorError(name, error, describeError);
      }
      return verdictOf(name, reply, options.thresholds);
    },
  };
}

function verdictOf(name: string, reply: Reply, thresholds: Thresholds): Verdict {
  if (reply?.pending === true && typeof reply.jobId === 'string' && reply.jobId !== '') {
    return { decision: 'pending', vendorJobId: reply.jobId };
  }
  const categories = reply?.categories;
  if (
    categories &&
    typeof categories === 'object' &&
    Object.values(categories).every((s) => typeof s === 'number')
  ) {
    return verdictFromScores(categories as Record<string, number>, thresholds);
  }
  throw new ModerationVendorError(name, `unreadable reply ${JSON.stringify(reply).slice(0, 200)}`, {
    retryable: false,
  });
}

function describeError(body: unknown): string | undefined {
  if (typeof body === 'string') return body.slice(0, 200);
  if (body && typeof body === 'object') return JSON.stringify(body).slice(0, 200);
  return undefined;
}
