import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { databaseProbe, storageProbe } from '../../platform/health/dependency-probes.ts';
import { createReadiness, type Readiness, readinessResponse } from '../../platform/health/readiness.ts';
import type { ApiContext } from '../context.ts';

/** The API needs its database and its bucket; the role adds its bus consumers (cli/roles.ts). */
export function createApiReadiness(ctx: Pick<ApiContext, 'db' | 'storage'>): Readiness {
  const readiness = createReadiness();
  readiness.addCheck(
    'database',
    databaseProbe(() => ctx.db.execute(sql`select 1`)),
  );
  readiness.addCheck('storage', storageProbe(ctx.storage));
  return readiness;
}

/** Probes only: Prometheus metrics are served on METRICS_PORT, never on the public API port. */
export async function healthRoutes(app: FastifyInstance, deps: { readiness: Readiness }): Promise<void> {
  const hide = { schema: { hide: true } };
  app.get('/healthz', hide, async () => ({ status: 'ok' }));
  app.get('/readyz', hide, async (_request, reply) => {
    const { statusCode, body } = await readinessResponse(deps.readiness);
    return reply.status(statusCode).send(body);
  });
}
