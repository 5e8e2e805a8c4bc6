import { stat } from 'node:fs/promises';
import {
  type MediaProbe,
  NoMediaStreamsError,
  type ProbeOptions,
  probeMedia,
} from '../../platform/media/probe.ts';
import { MediaInputError, mediaInputErrorFrom } from './media-input-error.ts';

// Enough to see a few GOPs of any sane encoder; what it decides (copy or encode) holds for the whole file.
export const KEYFRAME_WINDOW_SECONDS = 30;

/**
 * Probes a downloaded upload. An empty file, one ffprobe cannot read, or one without any audio or video
 * stream is the upload's fault and throws a MediaInputError the worker shows to the user.
 */
export async function ffprobeFile(path: string, options: ProbeOptions = {}): Promise<MediaProbe> {
  const { size } = await stat(path);
  if (size === 0) throw new MediaInputError('media_empty', 'the file is empty');
  try {
    return { ...(await probeMedia(path, options)), sizeBytes: size };
  } catch (error) {
    if (error instanceof NoMediaStreamsError) throw new MediaInputError('media_undecodable', error.message);
    throw mediaInputErrorFrom(error, 'the file');
  }
}
