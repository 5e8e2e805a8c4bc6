import { randomUUID } from 'node:crypto';

/**
 * Keys are server-made and immutable: a key is written once and never overwritten. Derivatives live
 * under the id of the request that built them, so a reprocess writes new keys and the database pointer
 * swap decides which set is live.
 */
export function rawObjectKey(mediaId: string): string {
  return `raw/${mediaId}/${randomUUID()}`;
}

export function derivedObjectKey(
  mediaId: string,
  requestId: string,
  quality: string,
  extension: string,
): string {
  return `derived/${mediaId}/${requestId}/${quality}.${extension}`;
}

/**
 * An object of a video's HLS package, `derived/{mediaId}/{requestId}/hls/{name}`: the edge authorises the
 * whole package by its `master.m3u8` (edge/playlist.ts). Chunked videos store `{rung}/{index}.ts` segments
 * and `{rung}/index.m3u8` playlists there.
 */
export function hlsObjectKey(mediaId: string, requestId: string, name: string): string {
  return `derived/${mediaId}/${requestId}/hls/${name}`;
}

/**
 * Written when a media is deleted or taken down (api/media/stop-marks.ts): the worker's jobs for it look
 * for this object and stop, since nobody will see what they would build.
 */
export function stopMarkKey(mediaId: string): string {
  return `derived/${mediaId}/stopped`;
}

/**
 * Written when a rung of a chunked video fails (a chunk failed every attempt): the rung's remaining chunk
 * jobs leave it out. A member of the HLS package, so it goes with it.
 */
export function rungStopMarkKey(mediaId: string, requestId: string, quality: string): string {
  return hlsObjectKey(mediaId, requestId, `${quality}/stopped`);
}

export function isRawKey(key: string): boolean {
  return key.startsWith('raw/');
}

/** Media views and events carry edge URLs, never storage URLs: the edge decides who may read. */
export function edgeUrlFor(edgePublicUrl: string, key: string): string {
  return `${edgePublicUrl}/m/${key}`;
}
