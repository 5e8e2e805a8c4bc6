import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../contracts/errors.ts';
import { isAdmin, type Principal } from '../../platform/auth/jwt.ts';
import type { RouteDeps } from './route-deps.ts';

/** Authenticates the request and insists on the `admin` role: every operator route starts here. */
export async function requireAdmin(caller: RouteDeps['caller'], request: FastifyRequest): Promise<Principal> {
  const principal = await caller(request);
  if (!isAdmin(principal)) throw new AppError('admin_required', 'This route needs the admin role');
  return principal;
}

/**
 * Makes every route of the plugin `app` admin-only before its input is looked at: a caller without the
 * role gets 403 admin_required whatever it sends, never schema hints from a 400.
 */
export function adminOnly(app: FastifyInstance, caller: RouteDeps['caller']): void {
  app.addHook('onRequest', async (request) => {
    await requireAdmin(caller, request);
  });
}
