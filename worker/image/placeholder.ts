import type { Sharp } from 'sharp';
import { rgbaToThumbHash } from 'thumbhash';

// ThumbHash accepts at most 100×100 pixels.
const PLACEHOLDER_MAX_SIDE = 100;

/** Base64 ThumbHash of what `image` shows; transparency is part of the hash. */
export async function thumbHashOf(image: Sharp): Promise<string> {
  const { data, info } = await image
    .resize(PLACEHOLDER_MAX_SIDE, PLACEHOLDER_MAX_SIDE, { fit: 'inside', withoutEnlargement: true })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return Buffer.from(rgbaToThumbHash(info.width, info.height, data)).toString('base64');
}
