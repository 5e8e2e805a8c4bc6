import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { counter, histogram, latencyBuckets } from './registry.ts';

export const httpDurationMetric = 'mediagate_http_request_duration_seconds';
export const httpErrorsMetric = 'mediagate_http_errors_total';

/**
 * RED per route: rate and duration by the route's pattern (`/v1/uploads/:uploadId/complete`, never the URL
 * a caller typed) and status, and errors by their stable problem code. A request no route matched is
 * `unmatched`, so probing random paths cannot grow the label set.
 */
export function instrumentHttp(app: FastifyInstance, registry: Registry, role: string): void {
  const duration = histogram(
    registry,
    httpDurationMetric,
    'Time to answer an HTTP request, by role, method, route pattern and status code',
    ['role', 'method', 'route', 'status_code'],
    latencyBuckets,
  );
  const errors = counter(
    registry,
    httpErrorsMetric,
    'HTTP requests answered 4xx or 5xx, by role, method, route pattern and problem code',
    ['role', 'method', 'route', 'code'],
  );
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const method = knownMethods.has(request.method) ? request.method : 'OTHER';
    const status = reply.statusCode;
    duration.observe({ role, method, route, status_code: String(status) }, reply.elapsedTime / 1000);
    if (status >= 400) errors.inc({ role, method, route, code: reply.problemCode ?? `http_${status}` });
  });
}

const knownMethods = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
