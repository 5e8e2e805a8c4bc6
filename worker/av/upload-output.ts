import { createReadStream } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ProcessedObject } from '../../contracts/events.ts';
import { derivedObjectKey, edgeUrlFor } from '../../contracts/object-keys.ts';
import type { ObjectStorage } from '../../platform/storage/object-storage.ts';
import type { MediaOutput } from '../ffmpeg/outputs.ts';

/**
 * Uploads one finished output. An HLS package keeps its relative layout under `…/hls/` so the playlists'
 * relative references resolve; its master playlist is the variant's key.
 */
export async function uploadOutput(
  storage: ObjectStorage,
  edgePublicUrl: string,
  ids: { mediaId: string; requestId: string },
  output: MediaOutput,
): Promise<ProcessedObject> {
  let key: string;
  if (output.files) {
    const base = dirname(output.path);
    const prefix = derivedObjectKey(ids.mediaId, ids.requestId, 'hls', '').replace(/\.$/, '');
    for (const file of output.files) {
      await storage.put(
        `${prefix}/${file.name}`,
        createReadStream(join(base, file.name)),
        file.contentType,
        file.bytes,
      );
    }
    key = `${prefix}/master.m3u8`;
  } else {
    key = derivedObjectKey(ids.mediaId, ids.requestId, output.quality, output.format);
    await storage.put(key, createReadStream(output.path), output.contentType, output.bytes);
  }
  return {
    quality: output.quality,
    format: output.format,
    key,
    url: edgeUrlFor(edgePublicUrl, key),
    width: output.width,
    height: output.height,
    size: output.bytes,
  };
}
