import type { FastifyInstance } from 'fastify';
import type { Histogram, Registry } from 'prom-client';
import { histogram } from './registry.ts';

export const edgeDecisionMetric = 'mediagate_edge_decision_duration_seconds';

/** What the edge answered a read with; the status says it, so the hot path records nothing of its own. */
const outcomeByStatus: Record<number, string> = {
  200: 'playlist',
  302: 'redirect',
  400: 'invalid',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  408: 'timeout',
  410: 'gone',
};

/**
 * Edge reads (`/m/*`) by outcome, with their latency: the edge's RED in one histogram (its count is the
 * rate, the non-redirect outcomes are the errors). One observe per read in an onResponse hook, on label
 * children made here once, so a read allocates nothing for its metrics.
 */
export function instrumentEdgeReads(app: FastifyInstance, registry: Registry): void {
  const decisions = histogram(
    registry,
    edgeDecisionMetric,
    'Edge reads by outcome (redirect, playlist, not_found, forbidden, gone, unauthenticated, invalid, error)',
    ['outcome'],
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
  );
  const children = new Map<number, ReturnType<Histogram['labels']>>();
  for (const [status, outcome] of Object.entries(outcomeByStatus)) {
    children.set(Number(status), decisions.labels({ outcome }));
  }
  const serverError = decisions.labels({ outcome: 'error' });
  const other = decisions.labels({ outcome: 'other' });
  app.addHook('onResponse', async (request, reply) => {
    if (!request.routeOptions.url?.startsWith('/m/')) return;
    const status = reply.statusCode;
    const child = children.get(status) ?? (status >= 500 ? serverError : other);
    child.observe(reply.elapsedTime / 1000);
  });
}
