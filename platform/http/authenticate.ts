import type { FastifyRequest } from 'fastify';
import { AppError } from '../../contracts/errors.ts';
import { AuthError, type Principal, type VerifyToken } from '../auth/jwt.ts';

/** RFC 6750: exactly `Bearer <b64token>`, one space, nothing after it. */
const bearerHeader = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i;

/**
 * The token of `Authorization: Bearer <token>`, or undefined when there is no header. Any other shape
 * (another scheme, extra words, an empty token) is refused, never read loosely: whatever reads the header
 * (the rate limiter, a proxy's log) must see the same credential that auth verified.
 */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  // Node keeps the first of repeated Authorization headers and drops the rest; a proxy may keep the last.
  if (authorizationHeaders(request.raw.rawHeaders) > 1) {
    throw new AppError('unauthenticated', 'Send exactly one Authorization header');
  }
  const match = bearerHeader.exec(header);
  if (!match?.[1]) {
    throw new AppError('unauthenticated', 'Malformed Authorization header: send exactly "Bearer <token>"');
  }
  return match[1];
}

/** Scanned on every authenticated read: names are compared without lower-casing (allocating) each one. */
function authorizationHeaders(rawHeaders: string[]): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    if (name.length === 13 && /^authorization$/i.test(name)) count++;
  }
  return count;
}

/** Resolves the caller or throws a 401 problem; routes never see an unauthenticated request. */
export async function authenticate(request: FastifyRequest, verify: VerifyToken): Promise<Principal> {
  const token = bearerToken(request);
  if (!token) throw new AppError('unauthenticated', 'Send Authorization: Bearer <token>');
  try {
    return await verify(token);
  } catch (error) {
    if (error instanceof AuthError) throw new AppError(error.code, error.message);
    throw error;
  }
}
