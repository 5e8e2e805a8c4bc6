import { join } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { rgbaToThumbHash } from 'thumbhash';
import type { ImageLadderOptions } from '../worker/image/ladder.ts';

/**
 * The anchor the worker is measured against: the straightforward sharp code for the same outputs, one
 * pipeline per output, all started at once, each decoding the file again. With `avifQuality` set, every
 * WebP output gets its AVIF sibling at the worker's effort, as the worker's ladder does.
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
  const formats = options.avifQuality > 0 ? (['webp', 'avif'] as const) : (['webp'] as const);
  const encode = (image: Sharp, format: 'webp' | 'avif', name: string) =>
    (format === 'webp' ? image.webp(webp) : image.avif({ quality: options.avifQuality, effort: 0 })).toFile(
      join(outDir, `${name}.${format}`),
    );
  await Promise.all([
    ...formats.flatMap((format) => [
      ...Object.entries(options.widths).map(([quality, width]) =>
        encode(sharp(input).rotate().resize({ width, withoutEnlargement: true }), format, quality),
      ),
      encode(
        sharp(input)
          .rotate()
          .resize(options.thumbnailSize, options.thumbnailSize, { fit: 'cover', position: 'attention' }),
        format,
        'thumbnail',
      ),
    ]),
    placeholder,
  ]);
  return placeholder;
}
