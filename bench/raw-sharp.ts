import { join } from 'node:path';
import sharp from 'sharp';
import { rgbaToThumbHash } from 'thumbhash';
import type { ImageLadderOptions } from '../worker/image/ladder.ts';

/**
 * The anchor the worker is measured against: the straightforward sharp code for the same outputs, one
 * pipeline per output, all started at once, each decoding the file again.
 */
export async function rawSharpLadder(
  input: string,
  outDir: string,
  options: ImageLadderOptions,
): Promise<string> {
  const webp = { quality: options.webpQuality };
  const placeholder = sharp(input)
    .rotate()
    .resize(100, 100, { fit: 'inside' })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true })
    .then(({ data, info }) => Buffer.from(rgbaToThumbHash(info.width, info.height, data)).toString('base64'));
  await Promise.all([
    ...Object.entries(options.widths).map(([quality, width]) =>
      sharp(input)
        .rotate()
        .resize({ width, withoutEnlargement: true })
        .webp(webp)
        .toFile(join(outDir, `${quality}.webp`)),
    ),
    sharp(input)
      .rotate()
      .resize(options.thumbnailSize, options.thumbnailSize, { fit: 'cover', position: 'attention' })
      .webp(webp)
      .toFile(join(outDir, 'thumbnail.webp')),
    placeholder,
  ]);
  return placeholder;
}
