import { randomUUID } from 'node:crypto';
import { media, mediaVariant } from '../db/schema.ts';
import type { InProcessApi } from './in-process.ts';

/** A video's HLS master playlist, as the worker records it. */
export const hlsMasterRendition = {
  name: 'hls/master.m3u8',
  quality: 'hls',
  format: 'hls',
  contentType: 'application/vnd.apple.mpegurl',
};

/**
 * A ready video of alice, as the worker leaves it: one rendition `derived/<id>/<run>/<name>` recorded as
 * `quality`/`format`, holding `body` in storage unless it is undefined. Returns the rendition's key.
 */
export async function storedVideo(
  api: InProcessApi,
  rendition: { name: string; quality: string; format: string; contentType: string },
  visibility: 'public' | 'private',
  body: Buffer | undefined,
): Promise<string> {
  const id = randomUUID();
  const key = `derived/${id}/${randomUUID()}/${rendition.name}`;
  await api.database.db.insert(media).values({
    id,
    ownerId: 'alice',
    kind: 'video',
    status: 'ready',
    bucket: api.ctx.storage.bucket,
    objectKey: `raw/${id}/${randomUUID()}`,
    filename: 'a.mp4',
    contentType: 'video/mp4',
    sizeBytes: 1000,
    visibility,
  });
  await api.database.db.insert(mediaVariant).values({
    mediaId: id,
    quality: rendition.quality,
    format: rendition.format,
    objectKey: key,
    bytes: body?.length ?? 100,
  });
  if (body !== undefined) await api.ctx.storage.put(key, body, rendition.contentType, body.length);
  return key;
}
