import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { Problem } from '../../contracts/problem.ts';
import { SweepBody, SweepReport } from '../../contracts/storage.ts';
import { runStorageSweep } from '../storage/garbage-sweeper.ts';
import { adminOnly, requireAdmin } from './require-admin.ts';
import type { RouteDeps } from './route-deps.ts';

export async function storageOpsRoutes(app: FastifyInstance, { ctx, caller }: RouteDeps): Promise<void> {
  adminOnly(app, caller);
  app.withTypeProvider<TypeBoxTypeProvider>().post(
    '/v1/ops/storage/sweep',
    {
      schema: {
        tags: ['ops'],
        summary: 'Sweep storage now: expire stale upload sessions, delete objects nobody references',
        body: Type.Optional(SweepBody),
        response: { 200: SweepReport, 400: Problem, 401: Problem, 403: Problem },
      },
    },
    async (request) => {
      const principal = await requireAdmin(caller, request);
      const report = await runStorageSweep(ctx.db, ctx.storage, { ...request.body, lister: ctx.storage });
      request.log.info({ actor: principal.sub, ...report }, 'storage sweep');
      return report;
    },
  );
}
