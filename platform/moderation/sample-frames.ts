import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';

export interface SampleFramesOptions {
  ffmpegPath: string;
  /** A file path or a (presigned) URL; ffmpeg seeks with range reads, so a URL is not downloaded whole. */
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
 * its own pipe (fd 3, 4, …) straight into memory.
 */
export async function sampleFrames(options: SampleFramesOptions): Promise<SampledFrame[]> {
  const times = frameTimes(options.durationSeconds, options.everySeconds, options.maxFrames);
  const side = options.maxSide ?? 640;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const scale = `scale='min(${side},iw)':'min(${side},ih)':force_original_aspect_ratio=decrease`;
  const args = ['-nostdin', '-hide_banner', '-loglevel', 'error'];
  for (const at of times) args.push('-ss', String(at), '-i', options.input);
  times.forEach((_, i) => {
    args.push(
      '-map',
      `${i}:v:0`,
      '-frames:v',
      '1',
      '-vf',
      scale,
      '-c:v',
      'mjpeg',
      '-q:v',
      '4',
      '-f',
      'image2pipe',
    );
    args.push(`pipe:${3 + i}`);
  });

  const child = spawn(options.ffmpegPath, args, {
    stdio: ['ignore', 'ignore', 'pipe', ...times.map(() => 'pipe' as const)],
  });
  const outputs = times.map((_, i) => collect(child.stdio[3 + i] as Readable));
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-2000);
  });

  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    });
    if (timedOut) throw new FrameSamplingError(`ffmpeg sampled no frames within ${timeoutMs} ms`);
    if (code !== 0) throw new FrameSamplingError(`ffmpeg exited with ${code}: ${stderr.trim()}`);
  } catch (error) {
    if (error instanceof FrameSamplingError) throw error;
    throw new FrameSamplingError(
      `could not run ffmpeg at ${options.ffmpegPath}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  } finally {
    clearTimeout(timer);
  }

  const buffers = await Promise.all(outputs);
  // A seek past the real end (a probe that overstated the duration) yields no frame; keep the rest.
  const frames = buffers.flatMap((bytes, i) =>
    bytes.length > 0 ? [{ contentType: 'image/jpeg' as const, bytes, atSeconds: times[i] ?? 0 }] : [],
  );
  if (frames.length === 0) throw new FrameSamplingError(`ffmpeg produced no frames: ${stderr.trim()}`);
  return frames;
}

function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve) => stream.once('close', () => resolve(Buffer.concat(chunks))));
}
