import type { Readable } from 'node:stream';

export interface StoredPart {
  partNumber: number;
  etag: string;
  size: number;
}

export interface ObjectHead {
  size: number;
  contentType: string | undefined;
  etag: string | undefined;
  lastModified: Date | undefined;
}

/**
 * Who follows a presigned URL: `public` (clients, players, vendors outside) gets one signed for the public
 * endpoint, `internal` (a role's own reads, e.g. ffmpeg in the gate) one for the address the roles use.
 */
export type UrlAudience = 'public' | 'internal';

/** The object-storage port. Keys are opaque and server-generated; callers never build storage URLs. */
export interface ObjectStorage {
  readonly bucket: string;
  ensureBucket(): Promise<void>;
  createMultipartUpload(key: string, contentType: string): Promise<string>;
  /** For the client, so signed for the public endpoint; it binds the part's length (storage refuses others). */
  presignUploadPart(
    key: string,
    uploadId: string,
    part: { partNumber: number; contentLength: number },
    expiresInSeconds: number,
  ): Promise<string>;
  /** `undefined` when storage no longer knows the upload (completed or aborted). */
  listParts(key: string, uploadId: string): Promise<StoredPart[] | undefined>;
  completeMultipartUpload(
    key: string,
    uploadId: string,
    parts: { partNumber: number; etag: string }[],
  ): Promise<void>;
  abortMultipartUpload(key: string, uploadId: string): Promise<void>;
  head(key: string): Promise<ObjectHead | undefined>;
  readRange(key: string, start: number, endInclusive: number): Promise<Buffer>;
  /**
   * The first `length` bytes (all of them when the object is shorter) and the object's size, in one ranged
   * GET instead of a HEAD and a read; undefined when there is no such object.
   */
  readHead(key: string, length: number): Promise<{ bytes: Buffer; size: number } | undefined>;
  presignGet(key: string, expiresInSeconds: number, audience: UrlAudience): Promise<string>;
  /** `signal` cancels the request, the body included: the worker's shutdown. */
  getStream(key: string, options?: { signal?: AbortSignal }): Promise<Readable>;
  put(
    key: string,
    body: Readable | Buffer,
    contentType: string,
    size: number,
    options?: { signal?: AbortSignal },
  ): Promise<void>;
  delete(keys: string[]): Promise<void>;
  /** Every object under a prefix, page by page: for the orphan scan. */
  listKeys(prefix: string): AsyncIterable<{ key: string; lastModified: Date }>;
}

/** Thrown for storage-side failures a client cannot fix (network, 5xx): maps to 503, never to data loss. */
export class StorageUnavailableError extends Error {}

/**
 * A multipart rule that storage enforced (missing part, wrong ETag, part too small), or an upload storage
 * no longer knows (`upload_not_open`: completed or aborted by a racing request).
 */
export class MultipartRejectedError extends Error {
  readonly code: 'parts_incomplete' | 'part_etag_mismatch' | 'part_too_small' | 'upload_not_open';
  constructor(code: MultipartRejectedError['code'], message: string) {
    super(message);
    this.code = code;
  }
}
