import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { Metadata } from 'sharp';
import { ImageRejectedError, timedOut } from './errors.ts';

/**
 * HEVC-coded HEIF (every iPhone photo) through libheif's command-line decoders, since sharp's bundled
 * libvips carries no HEVC decoder and sharp ≥ 0.35 needs a libvips newer than Debian's (8.14) to be built
 * against the system one. The decoder writes a lossless PNG with the ICC profile and, for heif-convert,
 * the alpha plane; the ladder then reads that PNG like any upload.
 *
 * libheif applies `irot`/`imir` while decoding, so the PNG is upright; the EXIF orientation it copies
 * along is ignored (HEIF readers do, and phones write both, so honouring it would turn twice).
 *
 * heif-thumbnailer `-p` decodes only the primary image; heif-convert decodes every top-level image of a
 * burst but is the one that keeps alpha. So: heif-convert for images with alpha, heif-thumbnailer
 * (asked for the full size, so it never scales) for the rest. Measured on a 12 MP photo (2 cores):
 * decoding is 0.9 s of CPU, writing the PNG 2.1 s more (bench/image.ts reports the whole ratio).
 */
export async function decodeHevcToPng(
  inputPath: string,
  header: Metadata,
  workDir: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<string> {
  const output = join(workDir, 'decoded.png');
  const alpha = header.hasAlpha === true;
  const longest = Math.max(header.width, header.height);
  const [command, args] = alpha
    ? ['heif-convert', ['--quiet', inputPath, output]]
    : ['heif-thumbnailer', ['-p', '-s', String(longest), inputPath, output]];
  await new Promise<void>((resolve, reject) => {
    execFile(
      command,
      args,
      { timeout: timeoutMs, killSignal: 'SIGKILL', signal },
      (error, _stdout, stderr) => {
        if (!error) return resolve();
        // Shutdown, not the upload's fault: the job goes back to the bus.
        if (signal?.aborted) return reject(signal.reason);
        if (error.killed) return reject(timedOut(error));
        // ENOENT is a worker without libheif's tools: ours to fix, so retried, not blamed on the upload.
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return reject(error);
        const reason = String(stderr).trim().split('\n').pop() || `${command} failed`;
        reject(
          new ImageRejectedError('image_undecodable', `HEIC could not be decoded: ${reason}`, {
            cause: error,
          }),
        );
      },
    );
  });
  // heif-convert names one file per top-level image when there are several; the primary's is its index.
  const pages = header.pages ?? 1;
  return alpha && pages > 1 ? join(workDir, `decoded-${(header.pagePrimary ?? 0) + 1}.png`) : output;
}
