import { createSigner, createVerifier, TokenError } from 'fast-jwt';
import buildGetJwks from 'get-jwks';
import { isCleanIdentifier } from '../../contracts/text.ts';
import type { Config } from '../config.ts';

export interface Principal {
  sub: string;
  roles: string[];
}

export type AuthFailure = 'unauthenticated' | 'token_expired';

export class AuthError extends Error {
  readonly code: AuthFailure;
  constructor(code: AuthFailure, message: string) {
    super(message);
    this.code = code;
  }
}

export type VerifyToken = (token: string) => Promise<Principal>;

/**
 * One verifier for every process: HS256 with a shared secret (dev), RS256/ES256 with a public key, or a
 * JWKS URL (production identity providers). `alg: none` and algorithm confusion are refused because the
 * accepted algorithms are pinned per key type.
 */
export function createTokenVerifier(auth: Config['auth']): VerifyToken {
  const common = {
    allowedIss: auth.issuer,
    allowedAud: auth.audience,
    // A token without `exp` would be valid for ever: refused, whoever issued it.
    requiredClaims: ['sub', 'exp'],
    cache: 1000,
  };
  let verify: (token: string) => Promise<Record<string, unknown>>;
  if (auth.jwksUrl) {
    const url = new URL(auth.jwksUrl);
    const jwks = buildGetJwks({ jwksPath: url.pathname, ttl: 10 * 60_000 });
    const verifier = createVerifier({
      ...common,
      algorithms: ['RS256', 'ES256'],
      key: async (decoded: { header: { kid?: string; alg?: string } }) =>
        jwks.getPublicKey({ domain: url.origin, kid: decoded.header.kid, alg: decoded.header.alg }),
    });
    verify = (token) => verifier(token);
  } else if (auth.jwtPublicKey) {
    const verifier = createVerifier({ ...common, algorithms: ['RS256', 'ES256'], key: auth.jwtPublicKey });
    verify = async (token) => verifier(token);
  } else if (auth.jwtSecret) {
    const verifier = createVerifier({ ...common, algorithms: ['HS256'], key: auth.jwtSecret });
    verify = async (token) => verifier(token);
  } else {
    throw new Error('Missing configuration: one of JWT_SECRET, JWT_PUBLIC_KEY or JWKS_URL is required');
  }
  return async (token) => {
    refuseInvalidUtf8(token);
    let claims: Record<string, unknown>;
    try {
      claims = await verify(token);
    } catch (error) {
      if (error instanceof TokenError && error.code === TokenError.codes.expired) {
        throw new AuthError('token_expired', 'The token has expired');
      }
      throw new AuthError('unauthenticated', error instanceof Error ? error.message : 'Invalid token');
    }
    checkLifetime(claims, auth.maxLifetimeSeconds, Date.now() / 1000);
    const sub = checkedSubject(claims.sub);
    const roles = Array.isArray(claims.roles) ? claims.roles.filter((r) => typeof r === 'string') : [];
    return { sub, roles };
  };
}

/** How far ahead of our clock an issuer's may run before its `iat` reads as a token from the future. */
export const clockSkewSeconds = 60;

/**
 * `exp` bounds a token's life only if it is a real moment in reach: `1e400` parses to Infinity and 10^30
 * is as good as never, both of which the signature check lets through. A token that claims to be issued
 * in the future comes from a broken or forged clock.
 */
function checkLifetime(claims: Record<string, unknown>, maxLifetimeSeconds: number, now: number): void {
  const { exp, iat } = claims;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) {
    throw new AuthError('unauthenticated', "The token's exp must be a finite number of seconds");
  }
  if (exp > now + maxLifetimeSeconds + clockSkewSeconds) {
    throw new AuthError(
      'unauthenticated',
      `The token's exp is more than ${maxLifetimeSeconds} seconds ahead (JWT_MAX_LIFETIME_SECONDS)`,
    );
  }
  if (
    iat !== undefined &&
    (typeof iat !== 'number' || !Number.isFinite(iat) || iat > now + clockSkewSeconds)
  ) {
    throw new AuthError('unauthenticated', "The token's iat must be a finite time no later than now");
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The verifier decodes the header and payload leniently, bytes that are not UTF-8 becoming U+FFFD, so two
 * different signed payloads could read as one `sub`. A token is JSON in UTF-8 or it is nothing.
 */
function refuseInvalidUtf8(token: string): void {
  for (const segment of token.split('.', 2)) {
    try {
      strictUtf8.decode(Buffer.from(segment, 'base64url'));
    } catch {
      throw new AuthError('unauthenticated', "The token's header or payload is not valid UTF-8");
    }
  }
}

/** Longest `sub` accepted; identity providers use far shorter ids (UUIDs, `auth0|…`, e-mail addresses). */
export const maxSubjectLength = 255;

/**
 * `sub` is the user id every row is owned by and every query scoped by, so it must be stored exactly as
 * given: PostgreSQL turns a lone surrogate into U+FFFD (two users would become one), cannot hold NUL, and
 * cannot index a key of a few kilobytes; and a sub with a zero-width or filler character reads, in every
 * log and console, as the user it imitates (so does one with a no-break space or a decomposed accent,
 * or a space at an end). Such a token names no user we could keep apart from another.
 */
function checkedSubject(sub: unknown): string {
  if (typeof sub !== 'string' || sub === '') {
    throw new AuthError('unauthenticated', 'The token names no user (sub must be a non-empty string)');
  }
  if (sub.length > maxSubjectLength) {
    throw new AuthError('unauthenticated', `The token's sub is longer than ${maxSubjectLength} characters`);
  }
  if (!sub.isWellFormed() || !isCleanIdentifier(sub)) {
    throw new AuthError(
      'unauthenticated',
      "The token's sub must be well-formed NFC Unicode without control, bidi, invisible or blank characters (a space only between others)",
    );
  }
  return sub;
}

/** Signs a token with the shared secret: for `mediagate token`, scripts and tests, never for production IdPs. */
export function signDevToken(secret: string, principal: Principal, expiresInSeconds = 24 * 3600): string {
  // Verifiers require `exp`, which a zero or unreadable lifetime (`--ttl 0`, `--ttl abc`) would leave out.
  // A negative one is allowed: it mints an already expired token, for tests.
  if (!Number.isInteger(expiresInSeconds) || expiresInSeconds === 0) {
    throw new Error(`A token lifetime must be a non-zero whole number of seconds, got ${expiresInSeconds}`);
  }
  const sign = createSigner({ key: secret, algorithm: 'HS256', expiresIn: expiresInSeconds * 1000 });
  return sign({ sub: principal.sub, roles: principal.roles });
}

export function isAdmin(principal: Principal): boolean {
  return principal.roles.includes('admin');
}
