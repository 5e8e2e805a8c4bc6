import type { FastifyRequest } from 'fastify';
import { AppError } from '../../contracts/errors.ts';
import { AuthError, type Principal, type VerifyToken } from '../auth/jwt.ts';

export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const [scheme, token] = header.split(' ');
  return scheme?.toLowerCase() === 'bearer' && token ? token : undefined;
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
