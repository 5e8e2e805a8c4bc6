import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp, { type Channels, type Metadata, type OutputInfo, type Sharp, type SharpOptions } from 'sharp';
import { rgbaToThumbHash } from 'thumbhash';
import {
  ImageRejectedError,
  rejectionFromDecodeError,
  rejectionFromEncodeError,
  timedOut,
} from './errors.ts';

// The worker sees each input once and deletes it afterwards, so libvips' caches could only pin
// memory and keep handles open on deleted temp files.
sharp.cache(false);

export type ImageQuality = 'low' | 'medium' | 'high' | 'thumbnail';

export interface ImageLadderOptions {
  widths: { low: number; medium: number; high: number };
  thumbnailSize: number;
  webpQuality: number;
  /** Decoder refuses inputs with more pixels than this (0 disables the limit). */
  maxInputPixels: number;
  /** Budget for the whole call, enforced by libvips inside each pipeline and between them. */
  timeoutSeconds: number;
}

export interface ImageDerivative {
  quality: ImageQuality;
  format: 'webp';
  contentType: 'image/webp';
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
// Photo formats only; SVG and PDF renderers are attack surface a photo upload never needs.
const ACCEPTED_FORMATS: ReadonlySet<string> = new Set(['jpeg', 'png', 'webp', 'gif', 'heif', 'tiff']);
// ThumbHash accepts at most 100×100 pixels.
const PLACEHOLDER_MAX_SIDE = 100;

/**
 * Builds the WebP ladder (`low`, `medium`, `high` by width, square `thumbnail`) and a ThumbHash
 * placeholder for an image file, writing `{quality}.webp` into the existing directory `outDir`.
 *
 * The input is decoded exactly once, oriented, converted to sRGB and shrunk to the smallest size
 * that still serves every output; all outputs are then encoded in parallel from that raw buffer.
 * Measured against one sharp pipeline per output (bench/image.ts), this saves the repeated
 * entropy decoding and ICC transforms and is the only step that touches untrusted bytes. Outputs
 * built from bare pixels cannot carry EXIF, XMP or ICC data.
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
  const original = await probe(inputPath, options);
  const plan = planLadder(original, options);
  const pixels = await decodeOnce(inputPath, plan.intermediate, options, deadline);
  const fromPixels = () =>
    sharp(pixels.data, { raw: pixels.raw }).timeout({ seconds: secondsLeft(deadline) });
  const webp = { quality: options.webpQuality };
  const output = (quality: ImageQuality) => join(outDir, `${quality}.webp`);

  const encodeRungs = async (rungs: Rung[]): Promise<ImageDerivative[]> => {
    const [encoded, ...copies] = rungs as [Rung, ...Rung[]];
    const { width, height } = plan.rungs[encoded];
    const info = await fromPixels().resize(width, height, { fit: 'fill' }).webp(webp).toFile(output(encoded));
    await Promise.all(copies.map((copy) => copyFile(output(encoded), output(copy))));
    return rungs.map((quality) => derivative(quality, info, output(quality)));
  };
  const encodeThumbnail = async (): Promise<ImageDerivative[]> => {
    const side = plan.thumbnailSide;
    const info = await fromPixels()
      .resize(side, side, { fit: 'cover', position: 'attention' })
      .webp(webp)
      .toFile(output('thumbnail'));
    return [derivative('thumbnail', info, output('thumbnail'))];
  };

  const encodes = [
    ...Array.from(Map.groupBy(RUNGS, (rung) => plan.rungs[rung].width).values(), encodeRungs),
    encodeThumbnail(),
  ];
  const placeholder = thumbHash(fromPixels);
  // Settle everything before reporting a failure, so no pipeline is still writing into outDir
  // when the caller starts cleaning it up.
  const settled = await Promise.allSettled([...encodes, placeholder]);
  const failure = settled.find((result) => result.status === 'rejected');
  if (failure) throw rejectionFromEncodeError(failure.reason);
  return {
    derivatives: (await Promise.all(encodes))
      .flat()
      .sort((a, b) => OUTPUT_ORDER.indexOf(a.quality) - OUTPUT_ORDER.indexOf(b.quality)),
    placeholder: await placeholder,
    width: original.width,
    height: original.height,
  };
}

function inputOptions(options: ImageLadderOptions): SharpOptions {
  // 'error' rejects truncated and corrupt files but tolerates the libjpeg warnings (such as
  // extraneous bytes before a marker) that many real cameras produce.
  return { autoOrient: true, failOn: 'error', limitInputPixels: options.maxInputPixels };
}

/** Reads only the header: dimensions (oriented) and format, refusing what we will not decode. */
async function probe(inputPath: string, options: ImageLadderOptions): Promise<Size> {
  let metadata: Metadata;
  try {
    metadata = await sharp(inputPath, inputOptions(options)).metadata();
  } catch (error) {
    throw rejectionFromDecodeError(error);
  }
  if (!ACCEPTED_FORMATS.has(metadata.format)) {
    throw new ImageRejectedError('image_undecodable', `unsupported image format: ${metadata.format}`);
  }
  return metadata.autoOrient;
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
  inputPath: string,
  size: Size,
  options: ImageLadderOptions,
  deadline: number,
): Promise<DecodedPixels> {
  try {
    // JPEG shrink-on-load makes the decoder itself do most of the downscaling here.
    const { data, info } = await sharp(inputPath, inputOptions(options))
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

/** libvips counts whole seconds per pipeline; the call-wide deadline is checked as each one starts. */
function secondsLeft(deadline: number): number {
  const remaining = deadline - Date.now();
  if (remaining <= 0) throw timedOut();
  return Math.min(3600, Math.ceil(remaining / 1000));
}

async function thumbHash(fromPixels: () => Sharp): Promise<string> {
  const { data, info } = await fromPixels()
    .resize(PLACEHOLDER_MAX_SIDE, PLACEHOLDER_MAX_SIDE, { fit: 'inside', withoutEnlargement: true })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return Buffer.from(rgbaToThumbHash(info.width, info.height, data)).toString('base64');
}

function derivative(quality: ImageQuality, info: OutputInfo, path: string): ImageDerivative {
  return {
    quality,
    format: 'webp',
    contentType: 'image/webp',
    width: info.width,
    height: info.height,
    bytes: info.size,
    path,
  };
}
