import type { FastifyInstance, HTTPMethods } from 'fastify';

const methods: HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/**
 * The methods `app` serves at `path` (no query). Non-empty for a request that found no route means the path
 * exists and the method is wrong: `405` with `Allow` (RFC 9110 §15.5.6), not a `404` saying there is no such
 * path. Only unrouted requests ask, so no served request pays for the lookups.
 */
export function allowedMethods(app: FastifyInstance, path: string): HTTPMethods[] {
  return methods.filter((method) => app.findRoute({ method, url: path }) !== null);
}
