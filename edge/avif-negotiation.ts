/**
 * AVIF by `Accept`: media views name the WebP rungs (`…/high.webp`); the worker writes an AVIF sibling
 * beside each (`…/high.avif`, its own variant row). A client that says it takes `image/avif` is sent to
 * the sibling when it exists, so AVIF-capable clients save bytes without changing their code. Only an
 * explicit `image/avif` counts: `image/*` and `*\/*` are sent by clients that cannot decode it.
 *
 * Whether the sibling exists is asked of the same reference lookup the edge already caches, so it costs
 * one query per sibling key and TTL, not one per request. The sibling belongs to the same media as the
 * WebP rung, so the access decision taken for the requested key holds for it.
 */

type References = (key: string) => Known | Promise<Known>;
interface Known {
  refs: readonly unknown[];
}

export interface Negotiated {
  /** The key to redirect to. */
  key: string;
  /** Whether the answer for this key depends on `Accept` (so caches must `Vary: Accept`). */
  varies: boolean;
}

const webpRung = /^derived\/.+\.webp$/;
// `image/avif` as a media range, with any parameters; a q of 0 (or 0.000) refuses it.
const avifRange = /(?:^|,)\s*image\/avif\s*(;[^,]*)?(?=,|$)/i;
const refused = /;\s*q\s*=\s*0(?:\.0{0,3})?\s*(?:;|$)/i;

export function acceptsAvif(accept: string | undefined): boolean {
  if (accept === undefined || accept.length > 2048) return false;
  const match = avifRange.exec(accept);
  if (!match) return false;
  return !refused.test(match[1] ?? '');
}

export function avifSibling(key: string): string | undefined {
  return webpRung.test(key) ? `${key.slice(0, -'.webp'.length)}.avif` : undefined;
}

/**
 * Picks the key to serve; WebP rungs vary by `Accept` whether or not this client takes AVIF. Synchronous
 * unless the sibling's references must be fetched: a promise only on a cache miss.
 */
export function avifNegotiation(references: References) {
  return (key: string, accept: string | undefined): Negotiated | Promise<Negotiated> => {
    const sibling = avifSibling(key);
    if (sibling === undefined) return { key, varies: false };
    if (!acceptsAvif(accept)) return { key, varies: true };
    const known = references(sibling);
    if (known instanceof Promise) return known.then((found) => siblingIfFound(key, sibling, found.refs));
    return siblingIfFound(key, sibling, known.refs);
  };
}

function siblingIfFound(key: string, sibling: string, refs: readonly unknown[]): Negotiated {
  return { key: refs.length > 0 ? sibling : key, varies: true };
}
