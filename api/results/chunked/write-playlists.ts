import { hlsObjectKey } from '../../../contracts/object-keys.ts';
import { masterPlaylist, mediaPlaylist } from '../../../platform/media/hls-playlists.ts';
import type { ObjectStorage } from '../../../platform/storage/object-storage.ts';
import { type ChunkedVideo, isComplete, playablePrefix, type RungRow } from './chunk-state.ts';

const playlistType = 'application/vnd.apple.mpegurl';

export interface WrittenMaster {
  key: string;
  size: number;
}

/**
 * Writes the playlists a chunk event changed, from the recorded state (so a redelivered event writes the
 * same text again). The lowest rung is an EVENT playlist of its playable prefix from its first chunk, so a
 * player starts while the rest encodes; any rung becomes VOD once every chunk is done, and joins the master
 * then. Returns the master when it lists anything.
 */
export async function writePlaylists(
  storage: ObjectStorage,
  video: ChunkedVideo,
  touched: readonly string[],
): Promise<WrittenMaster | undefined> {
  const { mediaId, requestId } = video.plan;
  const key = (name: string) => hlsObjectKey(mediaId, requestId, name);
  const listed = video.rungs.filter((rung) => listedInMaster(video, rung));
  for (const rung of listed.filter((r) => touched.includes(r.quality))) {
    const segments = playablePrefix(video, rung.quality).map((chunk) => ({
      uri: `${chunk.chunkIndex}.ts`,
      durationSeconds: video.plan.chunkSeconds[chunk.chunkIndex] ?? 0,
    }));
    const body = mediaPlaylist(segments, { ended: isComplete(video, rung.quality) });
    await put(storage, key(`${rung.quality}/index.m3u8`), body);
  }
  if (listed.length === 0) return undefined;
  const master = masterPlaylist(
    listed.map((rung) => ({
      uri: `${rung.quality}/index.m3u8`,
      bandwidth: rung.bandwidth,
      width: rung.rendition.width,
      height: rung.rendition.height,
    })),
  );
  const masterKey = key('master.m3u8');
  await put(storage, masterKey, master);
  return { key: masterKey, size: Buffer.byteLength(master) };
}

/** The first rung from its first chunk on; the others once complete. A failed rung is never listed. */
function listedInMaster(video: ChunkedVideo, rung: RungRow): boolean {
  if (rung.state === 'failed') return false;
  if (isComplete(video, rung.quality)) return true;
  const lowest = video.rungs.find((r) => r.state !== 'failed');
  return lowest?.quality === rung.quality && playablePrefix(video, rung.quality).length > 0;
}

function put(storage: ObjectStorage, key: string, body: string): Promise<void> {
  const bytes = Buffer.from(body);
  return storage.put(key, bytes, playlistType, bytes.length);
}
