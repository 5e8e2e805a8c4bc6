import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/*
 * Sightengine does not sign its callbacks, so the callback URL itself carries the proof: a token naming the
 * media and a per-job nonce, with an HMAC of both under the server's secret. The vendor's own job id is known
 * only after the submission that must already carry the URL, so the nonce stands for the job; it is stored
 * beside the vendor's id in `moderation_job_id` (see jobRef), which binds the URL to that one job.
 */

/** 36 + 16 + 43 characters and two dots: under the router's 100-character limit on a path parameter. */
const tokenPattern = /^([0-9a-f-]{36})\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{43})$/;

export interface CallbackClaim {
  mediaId: string;
  nonce: string;
}

export function mintNonce(): string {
  return randomBytes(12).toString('base64url');
}

export function callbackToken(secret: string, claim: CallbackClaim): string {
  return `${claim.mediaId}.${claim.nonce}.${mac(secret, claim)}`;
}

/** The claim a token carries when its HMAC is ours; undefined for anything else, however malformed. */
export function verifyCallbackToken(secret: string, token: string): CallbackClaim | undefined {
  const match = tokenPattern.exec(token);
  if (!match) return undefined;
  const claim = { mediaId: match[1] as string, nonce: match[2] as string };
  const expected = Buffer.from(mac(secret, claim));
  const given = Buffer.from(match[3] as string);
  return given.length === expected.length && timingSafeEqual(given, expected) ? claim : undefined;
}

function mac(secret: string, claim: CallbackClaim): string {
  return createHmac('sha256', secret)
    .update(`sightengine-callback\n${claim.mediaId}\n${claim.nonce}`)
    .digest('base64url');
}

/**
 * What `moderation_job_id` holds for a Sightengine video job: the vendor's media id, our nonce, and which
 * submission of this media it is (a job the vendor failed is submitted again, a bounded number of times).
 */
export interface VideoJobRef {
  vendorMediaId: string;
  nonce: string;
  attempt: number;
}

const refPattern = /^sightengine-video:([A-Za-z0-9_-]+):([1-9]\d{0,2}):(.+)$/;

export function formatJobRef(ref: VideoJobRef): string {
  return `sightengine-video:${ref.nonce}:${ref.attempt}:${ref.vendorMediaId}`;
}

export function parseJobRef(value: string | null): VideoJobRef | undefined {
  const match = value === null ? null : refPattern.exec(value);
  if (!match) return undefined;
  return { nonce: match[1] as string, attempt: Number(match[2]), vendorMediaId: match[3] as string };
}
