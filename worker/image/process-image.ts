import type { OptimizeRequest, ProcessedObject } from '../../contracts/events.ts';
import { derivedObjectKey, edgeUrlFor } from '../../contracts/object-keys.ts';
import type { Config } from '../../platform/config.ts';
import type { TimeStep } from '../../platform/metrics/pipeline.ts';
import type { ObjectStorage } from '../../platform/storage/object-storage.ts';
import { MediaRejectedError } from '../media-rejected-error.ts';
import { settleAll } from '../settle-all.ts';
import { uploadFile } from '../upload-file.ts';
import { ImageRejectedError } from './errors.ts';
import { buildImageLadder } from './ladder.ts';
import { readImageMetadata } from './metadata.ts';

/**
 * Builds the ladder for one original and uploads it under keys owned by this request. AVIF siblings sit
 * beside their WebP rung (`high.webp`, `high.avif`) so the edge finds one from the other; their variant
 * rows are labelled `high-avif` because a media holds one row per quality label.
 */
export async function processImage(
  deps: { config: Config; storage: ObjectStorage; time?: TimeStep; signal?: AbortSignal },
  request: OptimizeRequest,
  requestId: string,
  original: string,
  workDir: string,
): Promise<{ processed: ProcessedObject[]; placeholder: string; metadata: Record<string, unknown> }> {
  const time: TimeStep = deps.time ?? ((_step, work) => work());
  let ladder: Awaited<ReturnType<typeof buildImageLadder>>;
  let metadata: Record<string, unknown>;
  try {
    [ladder, metadata] = await time('transform', () =>
      settleAll([
        buildImageLadder(original, workDir, {
          ...deps.config.image,
          ffmpegPath: deps.config.ffmpegPath,
          signal: deps.signal,
        }),
        readImageMetadata(original) as Promise<Record<string, unknown>>,
      ]),
    );
  } catch (error) {
    if (error instanceof ImageRejectedError) throw new MediaRejectedError(error.code, error.message);
    throw error;
  }
  const derivatives = ladder.derivatives;
  const processed = await time('upload', () =>
    settleAll(
      derivatives.map(async (d) => {
        const key = derivedObjectKey(request.mediaId, requestId, d.quality, d.format);
        await uploadFile(deps.storage, { ...d, key }, deps.signal);
        return {
          quality: d.format === 'avif' ? `${d.quality}-avif` : d.quality,
          format: d.format,
          key,
          url: edgeUrlFor(deps.config.edgePublicUrl, key),
          width: d.width,
          height: d.height,
          size: d.bytes,
        };
      }),
    ),
  );
  return { processed, placeholder: ladder.placeholder, metadata };
}
