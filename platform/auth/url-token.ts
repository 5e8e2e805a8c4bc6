import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Short-lived capability for one object key, carried as `?token=` so `<img>` and `<video>` tags can load
 * through the edge without an Authorization header. Format: base64url(json).base64url(hmac-sha256).
 */
export interface UrlGrant {
  key: string;
  sub: string;
  exp: number;
}

/**
 * The expiry for view URLs minted now: `ttlSeconds` ahead, rounded down to a tenth of it, so every read within
 * that tenth hands out the same URLs — a browser or CDN that cached an image by its URL gets a hit on the next
 * page load instead of a new URL. A URL never lives longer than `ttlSeconds`.
 */
export function viewTokenExpiry(ttlSeconds: number, nowMs = Date.now()): number {
  const step = Math.max(1, Math.floor(ttlSeconds / 10));
  return Math.floor((Math.floor(nowMs / 1000) + ttlSeconds) / step) * step;
}

export function signUrlToken(secret: string, grant: UrlGrant): string {
  const body = Buffer.from(JSON.stringify({ k: grant.key, s: grant.sub, e: grant.exp })).toString(
    'base64url',
  );
  return `${body}.${mac(secret, body)}`;
}

export type UrlTokenCheck =
  | { ok: true; grant: UrlGrant }
  | { ok: false; reason: 'malformed' | 'expired' | 'wrong_key' };

export function verifyUrlToken(
  secret: string,
  token: string,
  key: string,
  nowSeconds: number,
): UrlTokenCheck {
  const [body, signature] = token.split('.');
  if (!body || !signature) return { ok: false, reason: 'malformed' };
  const expected = Buffer.from(mac(secret, body));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    return { ok: false, reason: 'malformed' };
  let parsed: { k?: unknown; s?: unknown; e?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (typeof parsed.k !== 'string' || typeof parsed.s !== 'string' || typeof parsed.e !== 'number') {
    return { ok: false, reason: 'malformed' };
  }
  if (parsed.k !== key) return { ok: false, reason: 'wrong_key' };
  if (parsed.e < nowSeconds) return { ok: false, reason: 'expired' };
  return { ok: true, grant: { key: parsed.k, sub: parsed.s, exp: parsed.e } };
}

function mac(secret: string, body: string): string {
  return createHmac('sha256', secret).update(body).digest('base64url');
}
