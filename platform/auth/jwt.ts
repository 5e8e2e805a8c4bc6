import { createSigner, createVerifier, TokenError } from 'fast-jwt';
import buildGetJwks from 'get-jwks';
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
    requiredClaims: ['sub'],
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
    let claims: Record<string, unknown>;
    try {
      claims = await verify(token);
    } catch (error) {
      if (error instanceof TokenError && error.code === TokenError.codes.expired) {
        throw new AuthError('token_expired', 'The token has expired');
      }
      throw new AuthError('unauthenticated', error instanceof Error ? error.message : 'Invalid token');
    }
    // `sub` is the user id every query is scoped by: a number, an array or an empty string is no user.
    if (typeof claims.sub !== 'string' || claims.sub === '') {
      throw new AuthError('unauthenticated', 'The token names no user (sub must be a non-empty string)');
    }
    const roles = Array.isArray(claims.roles) ? claims.roles.filter((r) => typeof r === 'string') : [];
    return { sub: claims.sub, roles };
  };
}

/** Signs a token with the shared secret: for `mediagate token`, scripts and tests, never for production IdPs. */
export function signDevToken(secret: string, principal: Principal, expiresInSeconds = 24 * 3600): string {
  const sign = createSigner({ key: secret, algorithm: 'HS256', expiresIn: expiresInSeconds * 1000 });
  return sign({ sub: principal.sub, roles: principal.roles });
}

export function isAdmin(principal: Principal): boolean {
  return principal.roles.includes('admin');
}
