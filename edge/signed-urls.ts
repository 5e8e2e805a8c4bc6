import type { ObjectStorage } from '../platform/storage/object-storage.ts';
import { BoundedCache } from './bounded-cache.ts';

export interface SignedUrl {
  url: string;
  /** Epoch ms at or before which storage stops honouring the URL. */
  expiresAt: number;
}

/**
 * One presigned storage URL per key, handed out again while at least half of its lifetime is left: every
 * viewer of a key gets the same URL for a while, so browsers and CDNs cache the bytes under one URL, and the
 * edge signs once per key and half-lifetime instead of once per read. A URL still expires no later than
 * `ttlSeconds` after the read it answers. It is only a URL: whether the reader may have it is decided on
 * every read before it is looked up here, so a revocation stops it being handed out as soon as the edge
 * sees the revocation. A URL at hand is returned as is, not as a promise: only signing waits.
 */
export function reusedSignedUrls(storage: ObjectStorage, ttlSeconds: number, maxEntries = 50_000) {
  const urls = new BoundedCache<SignedUrl>(maxEntries);
  const lifetimeMs = ttlSeconds * 1000;
  const sign = async (key: string, now: number): Promise<SignedUrl> => {
    // Stamped before signing: the URL's real expiry is a little later, never earlier.
    const signed = { url: await storage.presignGet(key, ttlSeconds, 'public'), expiresAt: now + lifetimeMs };
    urls.set(key, signed, now + lifetimeMs / 2);
    return signed;
  };
  return (key: string): SignedUrl | Promise<SignedUrl> => {
    const now = Date.now();
    return urls.get(key, now) ?? sign(key, now);
  };
}
