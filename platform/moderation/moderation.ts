/** What the gate hands a moderator. Nothing here is read from storage by the moderator itself. */
export interface ModerationInput {
  mediaId: string;
  kind: 'image' | 'video' | 'audio';
  sha256?: string;
  /** Identifies the content across uploads; verdicts are cached under it. */
  contentHash: string;
  /** The original or a downscale for images; sampled frames for videos; empty for audio. */
  images: { contentType: string; bytes: Buffer }[];
  /** A short-lived presigned GET, for vendors that fetch the media themselves. */
  url?: string;
  /**
   * A long video the vendor may judge asynchronously from `url` (then `images` is empty): the verdict
   * is `pending` and arrives at the vendor's callback.
   */
  deferred?: boolean;
}

export type ModerationCategory = { name: string; score: number };

/** `pending`: the vendor judges asynchronously and delivers the verdict to the moderation webhook. */
export type Verdict =
  | { decision: 'allow' }
  | { decision: 'reject'; categories: ModerationCategory[] }
  | { decision: 'pending'; vendorJobId: string };

export interface JudgeOptions {
  /** Aborts the vendor call; the resilience wrapper uses it to bound every attempt. */
  signal?: AbortSignal;
}

export interface Moderator {
  /** Shown in the startup log, so operators can see which vendor judges uploads (or that none does). */
  readonly name: string;
  judge(input: ModerationInput, options?: JudgeOptions): Promise<Verdict>;
}

/**
 * The vendor cannot judge now (outage, rate limit, open circuit). The media is kept and the client is told
 * to complete again after `retryAfterSeconds` (the gate answers 503 with Retry-After).
 */
export class ModerationUnavailableError extends Error {
  override readonly name = 'ModerationUnavailableError';
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds: number, options?: ErrorOptions) {
    super(message, options);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * A vendor call failed. `retryable` (network, timeout, 429, 5xx) tells the resilience wrapper to try
 * again; anything else (bad credentials, a request the vendor refuses, a reply we cannot read) is ours to
 * fix and is not retried.
 */
export class ModerationVendorError extends Error {
  override readonly name = 'ModerationVendorError';
  readonly vendor: string;
  readonly retryable: boolean;
  readonly status: number | undefined;
  readonly retryAfterSeconds: number | undefined;
  constructor(
    vendor: string,
    message: string,
    details: { retryable: boolean; status?: number; retryAfterSeconds?: number; cause?: unknown },
  ) {
    super(`${vendor}: ${message}`, { cause: details.cause });
    this.vendor = vendor;
    this.retryable = details.retryable;
    this.status = details.status;
    this.retryAfterSeconds = details.retryAfterSeconds;
  }
}
