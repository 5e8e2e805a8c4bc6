import type { FastifyRequest } from 'fastify';
import type { Principal } from '../../platform/auth/jwt.ts';
import type { ApiContext } from '../context.ts';

export interface RouteDeps {
  ctx: ApiContext;
  /** Authenticates the request; throws a 401 problem otherwise. */
  caller: (request: FastifyRequest) => Promise<Principal>;
  createLimit: { max: number; timeWindow: string };
}
