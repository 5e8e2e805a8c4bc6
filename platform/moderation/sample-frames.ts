import { FfmpegError, runFfmpeg } from '../media/run-ffmpeg.ts';
import { isRemote, WINDOW_READS } from '../media/url-reads.ts';

// A 640 px JPEG at q4 is ~100 KB; far more is not a frame.
const MAX_FRAME_BYTES = 4 * 1024 * 1024;

export interface SampleFramesOptions {
  ffmpegPath: string;
  /** A file path or a URL; ffmpeg seeks with range reads, so a URL is not downloaded whole. */
  input: string;
  /** From the gate's probe; frames are spread over it. */
  durationSeconds: number;
  everySeconds?: number;
  maxFrames?: number;
  /** Longest side of each frame; moderation models look at small images. */
  maxSide?: number;
  timeoutMs?: number;
}

export type SampledFrame = { contentType: 'image/jpeg'; bytes: Buffer; atSeconds: number };

export class FrameSamplingError extends Error {
  override readonly name = 'FrameSamplingError';
}

/** One frame per `everySeconds`, at most `maxFrames`, each in the middle of its equal slice of the video. */
export function frameTimes(durationSeconds: number, everySeconds = 10, maxFrames = 8): number[] {
  if (!Number.isFinite(durationSeconds) || durationSeconds <= 0) return [0];
  const count = Math.min(maxFrames, Math.max(1, Math.ceil(durationSeconds / everySeconds)));
  return Array.from(
    { length: count },
    (_, i) => Math.round(((i + 0.5) * durationSeconds * 1000) / count) / 1000,
  );
}

/**
 * Extracts JPEG frames for moderation with one ffmpeg run: each frame is its own input opened with a
 * fast seek (-ss before -i), so only the bytes around each moment are read, and each frame is written to
 * its own pipe (fd 3, 4, …) straight into memory. A URL may answer in bounded windows (the gate's
 * range-window server): ffmpeg continues past each window's end by asking again.
 */
export async function sampleFrames(options: SampleFramesOptions): Promise<SampledFrame[]> {
  const times = frameTimes(options.durationSeconds, options.everySeconds, options.maxFrames);
  const side = options.maxSide ?? 640;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const scale = `scale='min(${side},iw)':'min(${side},ih)':force_original_aspect_ratio=decrease`;
  const reads = isRemote(options.input) ? WINDOW_READS : [];
  const inputs = times.flatMap((at) => ['-ss', String(at), ...reads, '-i', options.input]);
  const outputs = times.flatMap((_, i) => [
    ...['-map', `${i}:v:0`, '-frames:v', '1', '-vf', scale],
    ...['-c:v', 'mjpeg', '-q:v', '4', '-f', 'image2pipe', `pipe:${3 + i}`],
  ]);
  let buffers: Buffer[];
  try {
    buffers = await runFfmpeg([...inputs, ...outputs], {
      ffmpegPath: options.ffmpegPath,
      timeoutMs,
      outputPipes: times.length,
      maxPipeBytes: MAX_FRAME_BYTES,
    });
  } catch (error) {
    if (error instanceof FfmpegError && error.reason === 'timeout')
      throw new FrameSamplingError(`ffmpeg sampled no frames within ${timeoutMs} ms`, { cause: error });
    if (error instanceof FfmpegError) throw new FrameSamplingError(error.message, { cause: error });
    throw new FrameSamplingError(
      `could not run ffmpeg at ${options.ffmpegPath}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  // A seek past the real end (a probe that overstated the duration) yields no frame; keep the rest.
  const frames = buffers.flatMap((bytes, i) =>
    bytes.length > 0 ? [{ contentType: 'image/jpeg' as const, bytes, atSeconds: times[i] ?? 0 }] : [],
  );
  if (frames.length === 0) throw new FrameSamplingError('ffmpeg produced no frames');
  return frames;
}
