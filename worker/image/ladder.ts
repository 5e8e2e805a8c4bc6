import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp, { type Channels, type Metadata, type OutputInfo, type Sharp, type SharpOptions } from 'sharp';
import { settleAll } from '../settle-all.ts';
import { buildAnimatedLadder, isAnimated } from './animation.ts';
import { secondsLeft } from './deadline.ts';
import { ImageRejectedError, rejectionFromDecodeError, rejectionFromEncodeError } from './errors.ts';
import { decodeHevcToPng } from './heif-decode.ts';
import { createLimiter } from './limiter.ts';
import { thumbHashOf } from './placeholder.ts';

// The worker sees each input once and deletes it afterwards, so libvips' caches could only pin
// memory and keep handles open on deleted temp files.
sharp.cache(false);

export type ImageQuality = 'low' | 'medium' | 'high' | 'thumbnail' | 'poster';

export interface ImageLadderOptions {
  widths: { low: number; medium: number; high: number };
  thumbnailSize: number;
  webpQuality: number;
  /** Every rung is also encoded as AVIF at this quality; 0 builds WebP only. */
  avifQuality: number;
  /** Decoder refuses inputs with more pixels than this (0 disables the limit). */
  maxInputPixels: number;
  /** Budget for the whole call, enforced by libvips inside each pipeline and between them. */
  timeoutSeconds: number;
  /** ffmpeg turns long GIFs into MP4; `ffmpeg` from PATH when unset. */
  ffmpegPath?: string;
  /**
   * Shutdown: kills the helper processes (libheif, ffmpeg) and starts no further pipeline. libvips cannot
   * be interrupted, so a pipeline already running finishes first, within `timeoutSeconds`.
   */
  signal?: AbortSignal;
}

export type ImageFormat = 'webp' | 'avif';

export interface ImageDerivative {
  quality: ImageQuality;
  /** `mp4` only for a long GIF turned into video (animation.ts). */
  format: ImageFormat | 'mp4';
  contentType: `image/${ImageFormat}` | 'video/mp4';
  width: number;
  height: number;
  bytes: number;
  path: string;
}

export interface ImageLadder {
  derivatives: ImageDerivative[];
  /** Base64 ThumbHash of the upright image. */
  placeholder: string;
  /** Size of the original once its EXIF orientation is applied. */
  width: number;
  height: number;
}

type Rung = 'low' | 'medium' | 'high';

interface Size {
  width: number;
  height: number;
}

interface LadderPlan {
  /** The one decode of the input, big enough for every output; everything else derives from it. */
  intermediate: Size;
  rungs: Record<Rung, Size>;
  thumbnailSide: number;
}

interface DecodedPixels {
  data: Buffer;
  raw: { width: number; height: number; channels: Channels };
}

// Largest first: the high rung's encode is the critical path, so it should grab a thread first.
const RUNGS: readonly Rung[] = ['high', 'medium', 'low'];
const OUTPUT_ORDER: readonly ImageQuality[] = ['low', 'medium', 'high', 'thumbnail'];
const FORMAT_ORDER: readonly ImageDerivative['format'][] = ['webp', 'avif'];
// Photo formats only; SVG and PDF renderers are attack surface a photo upload never needs.
const ACCEPTED_FORMATS: ReadonlySet<string> = new Set(['jpeg', 'png', 'webp', 'gif', 'heif', 'tiff']);
/**
 * aom's fastest setting: on a 1440-wide photo it costs about half a WebP encode's CPU, where effort 2
 * costs 2.4× and effort 4 (sharp's default) 30× for a few percent fewer bytes (bench/image.ts).
 */
const AVIF_EFFORT = 0;
/**
 * aom holds about 110 MB while it encodes a 1440-wide rung (WebP about 40 MB), and every AVIF encode running
 * at once in the process adds its own. Two at most, the cores a worker is given (the chart's CPU limit): the
 * siblings can still fill both cores, and the peak stays bounded whatever WORKER_CONCURRENCY is. One at a
 * time kept no less memory under the allocator settings the image sets, and halved the AVIF share of CPU a
 * worker gets on a busy host.
 */
const avifSlot = createLimiter(2);

/**
 * Builds the WebP ladder (`low`, `medium`, `high` by width, square `thumbnail`), an AVIF sibling of each
 * rung when `avifQuality` is set, and a ThumbHash placeholder for an image file, writing
 * `{quality}.{format}` into the existing directory `outDir`.
 *
 * The input is decoded exactly once, oriented, converted to 8-bit sRGB (CMYK, 16-bit, Display P3 and
 * Adobe RGB through their ICC profiles) with its alpha kept, and shrunk to the smallest size that still
 * serves every output; all outputs are then encoded in parallel from that raw buffer. Measured against
 * one sharp pipeline per output (bench/image.ts), this saves the repeated entropy decoding and ICC
 * transforms and is the only step that touches untrusted bytes. Outputs built from bare pixels cannot
 * carry EXIF, XMP or ICC data. HEVC-coded HEIF is first decoded by libheif (heif-decode.ts).
 *
 * Rungs are never upscaled. When the original is narrower than a rung, that rung is produced at
 * the original width so clients always find all three; rungs that end up the same size are
 * encoded once and copied, which keeps the contract without paying for identical encodes.
 *
 * Throws ImageRejectedError when the upload itself is at fault (too many pixels, undecodable,
 * over the time budget); any other error is infrastructure and worth retrying.
 */
export async function buildImageLadder(
  inputPath: string,
  outDir: string,
  options: ImageLadderOptions,
): Promise<ImageLadder> {
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  const header = await probe(inputPath, options);
  options.signal?.throwIfAborted();
  if (isAnimated(header)) return buildAnimatedLadder(inputPath, header, outDir, options, deadline);
  const source = await openSource(inputPath, header, outDir, options, deadline);
  options.signal?.throwIfAborted();
  const plan = planLadder(source.size, options);
  const pixels = await decodeOnce(source, plan.intermediate, options, deadline);
  options.signal?.throwIfAborted();
  const fromPixels = () =>
    sharp(pixels.data, { raw: pixels.raw }).timeout({ seconds: secondsLeft(deadline) });
  const formats: ImageFormat[] = options.avifQuality > 0 ? ['webp', 'avif'] : ['webp'];
  const encode = (image: Sharp, format: ImageFormat, quality: ImageQuality) =>
    format === 'webp'
      ? image.webp({ quality: options.webpQuality }).toFile(output(outDir, quality, format))
      : avifSlot(() =>
          image
            .avif({ quality: options.avifQuality, effort: AVIF_EFFORT })
            .toFile(output(outDir, quality, format)),
        );

  const encodeRungs = async (rungs: Rung[], format: ImageFormat): Promise<ImageDerivative[]> => {
    const [encoded, ...copies] = rungs as [Rung, ...Rung[]];
    const { width, height } = plan.rungs[encoded];
    const info = await encode(fromPixels().resize(width, height, { fit: 'fill' }), format, encoded);
    const first = output(outDir, encoded, format);
    await settleAll(copies.map((copy) => copyFile(first, output(outDir, copy, format))));
    return rungs.map((quality) => derivative(quality, format, info, output(outDir, quality, format)));
  };
  const encodeThumbnail = async (format: ImageFormat): Promise<ImageDerivative[]> => {
    const side = plan.thumbnailSide;
    const square = fromPixels().resize(side, side, { fit: 'cover', position: 'attention' });
    const info = await encode(square, format, 'thumbnail');
    return [derivative('thumbnail', format, info, output(outDir, 'thumbnail', format))];
  };

  const sameWidths = Array.from(Map.groupBy(RUNGS, (rung) => plan.rungs[rung].width).values());
  const encodes = formats.flatMap((format) => [
    ...sameWidths.map((rungs) => encodeRungs(rungs, format)),
    encodeThumbnail(format),
  ]);
  const placeholder = thumbHashOf(fromPixels());
  // Settle everything before reporting a failure, so no pipeline is still writing into outDir
  // when the caller starts cleaning it up.
  const settled = await Promise.allSettled([...encodes, placeholder]);
  const failure = settled.find((result) => result.status === 'rejected');
  if (failure) throw rejectionFromEncodeError(failure.reason);
  return {
    derivatives: (await Promise.all(encodes))
      .flat()
      .sort(
        (a, b) =>
          FORMAT_ORDER.indexOf(a.format) - FORMAT_ORDER.indexOf(b.format) ||
          OUTPUT_ORDER.indexOf(a.quality) - OUTPUT_ORDER.indexOf(b.quality),
      ),
    placeholder: await placeholder,
    width: source.size.width,
    height: source.size.height,
  };
}

const output = (outDir: string, quality: ImageQuality, format: ImageFormat) =>
  join(outDir, `${quality}.${format}`);

/** The file the ladder decodes, whether its EXIF orientation still needs applying, and its upright size. */
interface Source {
  path: string;
  autoOrient: boolean;
  size: Size;
}

/**
 * Reads the header, refusing what we will not decode; HEVC-coded HEIF is judged on its header size
 * (libheif knows no pixel limit of ours) and then decoded upright into a PNG in `workDir`.
 */
async function openSource(
  inputPath: string,
  header: Metadata,
  workDir: string,
  options: ImageLadderOptions,
  deadline: number,
): Promise<Source> {
  if (header.format !== 'heif' || header.compression !== 'hevc') {
    return { path: inputPath, autoOrient: true, size: header.autoOrient };
  }
  const pixelCount = header.width * header.height;
  if (options.maxInputPixels > 0 && pixelCount > options.maxInputPixels) {
    throw new ImageRejectedError('image_too_large', 'image has more pixels than allowed');
  }
  const path = await decodeHevcToPng(
    inputPath,
    header,
    workDir,
    secondsLeft(deadline) * 1000,
    options.signal,
  );
  return { path, autoOrient: false, size: { width: header.width, height: header.height } };
}

function inputOptions(options: ImageLadderOptions, autoOrient = true): SharpOptions {
  // 'error' rejects truncated and corrupt files but tolerates the libjpeg warnings (such as
  // extraneous bytes before a marker) that many real cameras produce.
  return { autoOrient, failOn: 'error', limitInputPixels: options.maxInputPixels };
}

/** Reads only the header: dimensions (oriented) and format, refusing what we will not decode. */
async function probe(inputPath: string, options: ImageLadderOptions): Promise<Metadata> {
  let metadata: Metadata;
  try {
    metadata = await sharp(inputPath, inputOptions(options)).metadata();
  } catch (error) {
    throw rejectionFromDecodeError(error);
  }
  if (!ACCEPTED_FORMATS.has(metadata.format)) {
    throw new ImageRejectedError('image_undecodable', `unsupported image format: ${metadata.format}`);
  }
  return metadata;
}

function planLadder(original: Size, options: ImageLadderOptions): LadderPlan {
  const scaled = (width: number): Size => ({
    width,
    height: Math.max(1, Math.round((original.height * width) / original.width)),
  });
  const rungs = {
    low: scaled(Math.min(options.widths.low, original.width)),
    medium: scaled(Math.min(options.widths.medium, original.width)),
    high: scaled(Math.min(options.widths.high, original.width)),
  };
  const shortSide = Math.min(original.width, original.height);
  const thumbnailSide = Math.min(options.thumbnailSize, shortSide);
  // The widest rung usually decides, but a panorama's thumbnail needs more height than its rungs.
  const widest = Math.max(rungs.low.width, rungs.medium.width, rungs.high.width);
  const scale = Math.min(1, Math.max(widest / original.width, thumbnailSide / shortSide));
  const intermediate = {
    width: Math.max(1, Math.round(original.width * scale)),
    height: Math.max(1, Math.round(original.height * scale)),
  };
  return { intermediate, rungs, thumbnailSide };
}

async function decodeOnce(
  source: Source,
  size: Size,
  options: ImageLadderOptions,
  deadline: number,
): Promise<DecodedPixels> {
  try {
    // JPEG shrink-on-load makes the decoder itself do most of the downscaling here. sRGB is 8-bit
    // whatever the input's depth, and libvips converts through the embedded profile (or a CMYK default).
    const { data, info } = await sharp(source.path, inputOptions(options, source.autoOrient))
      .timeout({ seconds: secondsLeft(deadline) })
      .resize(size.width, size.height, { fit: 'fill' })
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { data, raw: { width: info.width, height: info.height, channels: info.channels } };
  } catch (error) {
    throw rejectionFromDecodeError(error);
  }
}

function derivative(
  quality: ImageQuality,
  format: ImageFormat,
  info: OutputInfo,
  path: string,
): ImageDerivative {
  return {
    quality,
    format,
    contentType: `image/${format}`,
    width: info.width,
    height: info.height,
    bytes: info.size,
    path,
  };
}
