import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { isDatabaseUnavailable } from '../http/database-errors.ts';
import { counter, databaseUnavailableMetric } from './registry.ts';

/** Counts requests answered 503 `database_unavailable`: the user-visible cost of a database outage. */
export function countDatabaseOutages(app: FastifyInstance, registry: Registry, role: string): void {
  const answered = counter(
    registry,
    databaseUnavailableMetric,
    'Requests answered 503 database_unavailable because the database connection was lost or refused',
    ['role'],
  );
  app.addHook('onError', async (_request, _reply, error) => {
    if (isDatabaseUnavailable(error)) answered.inc({ role });
  });
}
