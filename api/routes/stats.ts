import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Problem } from '../../contracts/problem.ts';
import { Stats, StatsQuery } from '../../contracts/stats.ts';
import { platformStats } from '../ops/stats.ts';
import { adminOnly } from './require-admin.ts';
import type { RouteDeps } from './route-deps.ts';

export async function statsRoutes(app: FastifyInstance, { ctx, caller }: RouteDeps): Promise<void> {
  adminOnly(app, caller);
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/v1/ops/stats',
    {
      schema: {
        tags: ['ops'],
        summary: 'Storage held and saved by dedupe, uploads per day, processing latency and failures',
        querystring: StatsQuery,
        response: { 200: Stats, 400: Problem, 401: Problem, 403: Problem },
      },
    },
    async (request) => {
      return platformStats(ctx.db, request.query);
    },
  );
}
