import { FfmpegError, type FfmpegToolOptions, runFfmpeg } from '../../platform/media/run-ffmpeg.ts';
import { type MediaOutput, writeAtomically } from './outputs.ts';

export interface StillRequest {
  quality: string;
  path: string;
  /** Omitted for an attached picture, which has a single frame. */
  atSeconds?: number;
}

export interface StillOptions extends FfmpegToolOptions {
  width: number;
  height: number;
  /** Stream to take frames from; the main video (`0:V:0`, never cover art) unless told otherwise. */
  stream?: string;
}

/**
 * WebP stills (Debian's ffmpeg has libwebp), all from one ffmpeg process: each still is its own input
 * seeked before decoding, so the cost is a few GOPs per still whatever the file's length. A file whose
 * frames end before its stated duration (truncated, or a last frame shorter than announced) leaves a seek
 * with nothing to show; then each still is taken alone, and one that still finds nothing shows the first
 * frame: a poster of the start beats no poster.
 */
export async function extractStills(
  input: string,
  stills: readonly StillRequest[],
  options: StillOptions,
): Promise<MediaOutput[]> {
  try {
    return await extractTogether(input, stills, options);
  } catch (error) {
    const seeked = stills.some((still) => still.atSeconds !== undefined && still.atSeconds > 0);
    if (!(error instanceof FfmpegError) || error.reason !== 'exit' || !seeked) throw error;
    const outputs: MediaOutput[] = [];
    for (const still of stills) {
      const alone = await extractTogether(input, [still], options).catch((failure: unknown) => {
        if (!(failure instanceof FfmpegError) || failure.reason !== 'exit') throw failure;
        return extractTogether(input, [{ ...still, atSeconds: 0 }], options);
      });
      outputs.push(...alone);
    }
    return outputs;
  }
}

async function extractTogether(
  input: string,
  stills: readonly StillRequest[],
  options: StillOptions,
): Promise<MediaOutput[]> {
  const stream = options.stream ?? '0:V:0';
  const sizes = await writeAtomically(
    stills.map((still) => still.path),
    async (temps) => {
      const inputs = stills.flatMap((still) => [
        ...(still.atSeconds !== undefined ? ['-ss', String(still.atSeconds)] : []),
        '-i',
        input,
      ]);
      const outputs = temps.flatMap((temp, i) => [
        ...['-map', stream.replace(/^0:/, `${i}:`), '-frames:v', '1', '-map_metadata', '-1'],
        ...['-vf', `scale=${options.width}:${options.height},setsar=1`],
        ...['-c:v', 'libwebp', '-quality', '80', '-f', 'webp', temp],
      ]);
      // A seek past the last decodable frame would otherwise "succeed" with a header-only file.
      await runFfmpeg(['-abort_on', 'empty_output_stream', ...inputs, ...outputs], options);
    },
  );
  return stills.map((still, i) => ({
    quality: still.quality,
    format: 'webp',
    contentType: 'image/webp',
    path: still.path,
    width: options.width,
    height: options.height,
    bytes: sizes[i] ?? 0,
  }));
}
