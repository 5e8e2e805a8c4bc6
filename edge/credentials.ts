import { AppError } from '../contracts/errors.ts';
import { AuthError, isAdmin, type VerifyToken } from '../platform/auth/jwt.ts';
import { type UrlGrant, verifyUrlToken } from '../platform/auth/url-token.ts';
import { BoundedCache } from './bounded-cache.ts';

/**
 * Credentials seen again within `ttlMs` are not verified again: a viewer's Bearer token or a tag's
 * `?token=` arrives with every segment and thumbnail it loads. Only verified credentials are kept, keyed on
 * their exact text, never past their own `exp`, and never longer than `ttlMs` (the window in which the edge
 * may also lag behind a JWKS rotation, as it may behind a revocation). Anything else is verified in full.
 */
export interface Viewer {
  sub: string;
  admin: boolean;
}

export interface CredentialLimits {
  ttlMs: number;
  maxEntries?: number;
}

/** Longer credentials are verified every time rather than held: the cache's memory stays bounded. */
const maxCachedChars = 2048;

/**
 * The Bearer token's viewer; a bad or expired token is a 401 problem. A token seen within the window is
 * answered at once, not as a promise: the edge's hit path stays synchronous, without a microtask per read.
 */
export function cachedViewers(verify: VerifyToken, { ttlMs, maxEntries = 10_000 }: CredentialLimits) {
  const verified = new BoundedCache<Viewer>(maxEntries);
  const verifyAndKeep = async (token: string, now: number): Promise<Viewer> => {
    let viewer: Viewer;
    try {
      const principal = await verify(token);
      viewer = { sub: principal.sub, admin: isAdmin(principal) };
    } catch (error) {
      if (error instanceof AuthError) throw new AppError(error.code, error.message);
      throw error;
    }
    const exp = expiryOf(token);
    if (ttlMs > 0 && exp !== undefined && token.length <= maxCachedChars) {
      verified.set(token, viewer, Math.min(exp * 1000, now + ttlMs));
    }
    return viewer;
  };
  return (token: string): Viewer | Promise<Viewer> => {
    const now = Date.now();
    return verified.get(token, now) ?? verifyAndKeep(token, now);
  };
}

/**
 * The grant of a `?token=` for `key`; a forged, mangled, expired or other key's token is a problem. The
 * MAC and expiry are checked in full the first time; a cached grant is used only for its own key.
 */
export function cachedUrlGrants(secret: string, { ttlMs, maxEntries = 10_000 }: CredentialLimits) {
  const verified = new BoundedCache<UrlGrant>(maxEntries);
  return (token: string, key: string): UrlGrant => {
    const now = Date.now();
    const hit = verified.get(token, now);
    if (hit !== undefined && hit.key === key) return hit;
    const check = verifyUrlToken(secret, token, key, Math.floor(now / 1000));
    if (!check.ok) {
      throw new AppError(
        check.reason === 'expired' ? 'token_expired' : 'forbidden',
        `URL token ${check.reason}`,
      );
    }
    if (ttlMs > 0 && token.length <= maxCachedChars) {
      // verifyUrlToken accepts a grant through the whole second `exp`; the cache lets go at its start.
      verified.set(token, check.grant, Math.min(check.grant.exp * 1000, now + ttlMs));
    }
    return check.grant;
  };
}

/** `exp` of a token the verifier has just accepted (so its payload is the one it checked). */
function expiryOf(token: string): number | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
    return typeof payload?.exp === 'number' ? payload.exp : undefined;
  } catch {
    return undefined;
  }
}
