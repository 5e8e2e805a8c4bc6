import type { VideoChunkJob } from '../../../contracts/events.ts';
import { hlsObjectKey } from '../../../contracts/object-keys.ts';

/** Where a chunk's segment of one rung lives: relative to the rung's playlist, `{index}.ts`. */
export function chunkSegmentKey(
  job: Pick<VideoChunkJob, 'mediaId' | 'requestId'>,
  quality: string,
  index: number,
) {
  return hlsObjectKey(job.mediaId, job.requestId, `${quality}/${index}.ts`);
}
