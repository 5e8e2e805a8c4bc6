import { rename, rm, stat } from 'node:fs/promises';
import { type RunFfmpegOptions, runFfmpeg } from '../../platform/media/run-ffmpeg.ts';

/** One file (or, for HLS, one package of files) the worker can upload as soon as it is reported. */
export interface MediaOutput {
  /** poster, thumbnail-1…, low, medium, high, hls */
  quality: string;
  format: 'mp4' | 'm4a' | 'webp' | 'm3u8';
  contentType: string;
  /** The file; for HLS the master playlist, with the rest of the package in `files`. */
  path: string;
  /** HLS only: every file of the package (the master too), named relative to the master's directory. */
  files?: OutputFile[];
  width: number | null;
  height: number | null;
  /** Total bytes (the whole package for HLS). */
  bytes: number;
}

export interface OutputFile {
  name: string;
  contentType: string;
  bytes: number;
}

/**
 * Has `write` produce each path under a temporary name, then renames them all: a path that exists is
 * complete, and a failure (or a kill) leaves no partial file behind. Returns the sizes.
 */
export async function writeAtomically(
  paths: readonly string[],
  write: (tempPaths: string[]) => Promise<void>,
): Promise<number[]> {
  const temps = paths.map((path) => `${path}.partial`);
  try {
    await write(temps);
    const sizes = await Promise.all(temps.map(async (temp) => (await stat(temp)).size));
    await Promise.all(temps.map((temp, i) => rename(temp, paths[i] as string)));
    return sizes;
  } catch (error) {
    await Promise.all(temps.map((temp) => rm(temp, { recursive: true, force: true })));
    throw error;
  }
}

/** `ffmpeg -i input <outputArgs> outPath`, atomically; returns the size written. */
export async function encodeFile(
  input: string,
  outPath: string,
  outputArgs: readonly string[],
  options: RunFfmpegOptions,
): Promise<number> {
  const [bytes = 0] = await writeAtomically([outPath], async ([temp = '']) => {
    // Otherwise an input with nothing decodable "succeeds" with a header-only file.
    await runFfmpeg(['-abort_on', 'empty_output', '-i', input, ...outputArgs, temp], options);
  });
  return bytes;
}
