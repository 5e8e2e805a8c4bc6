import { dirname, join } from 'node:path';
import type { ProcessedObject } from '../../contracts/events.ts';
import { derivedObjectKey, edgeUrlFor } from '../../contracts/object-keys.ts';
import type { ObjectStorage } from '../../platform/storage/object-storage.ts';
import type { MediaOutput } from '../ffmpeg/outputs.ts';
import { uploadFile } from '../upload-file.ts';

/**
 * Uploads one finished output. An HLS package keeps its relative layout under `…/hls/` so the playlists'
 * relative references resolve; its master playlist is the variant's key.
 */
export async function uploadOutput(
  storage: ObjectStorage,
  edgePublicUrl: string,
  ids: { mediaId: string; requestId: string },
  output: MediaOutput,
  signal?: AbortSignal,
): Promise<ProcessedObject> {
  let key: string;
  if (output.files) {
    const base = dirname(output.path);
    const prefix = derivedObjectKey(ids.mediaId, ids.requestId, 'hls', '').replace(/\.$/, '');
    for (const file of output.files) {
      const upload = { ...file, key: `${prefix}/${file.name}`, path: join(base, file.name) };
      await uploadFile(storage, upload, signal);
    }
    key = `${prefix}/master.m3u8`;
  } else {
    key = derivedObjectKey(ids.mediaId, ids.requestId, output.quality, output.format);
    await uploadFile(storage, { ...output, key }, signal);
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
