import type { FastifyRequest } from 'fastify';
import { AppError } from '../../contracts/errors.ts';
import { isAdmin, type Principal } from '../../platform/auth/jwt.ts';
import type { RouteDeps } from './route-deps.ts';

/** Authenticates the request and insists on the `admin` role: every operator route starts here. */
export async function requireAdmin(caller: RouteDeps['caller'], request: FastifyRequest): Promise<Principal> {
  const principal = await caller(request);
  if (!isAdmin(principal)) throw new AppError('admin_required', 'This route needs the admin role');
  return principal;
}
