import type { FastifyInstance, onResponseHookHandler } from 'fastify';
import type { Registry } from 'prom-client';
import { HotHistogram } from './hot-histogram.ts';

export const edgeDecisionMetric = 'mediagate_edge_decision_duration_seconds';

/**
 * What the edge answered a read with; the status says it (a 200 is a playlist or a video's bytes, as its
 * content type says), so the hot path records nothing of its own. A failed precondition (412) or a range
 * past the end (416) is the request's fault, as a 400 is.
 */
const outcomeByStatus: Record<number, string> = {
  206: 'bytes',
  302: 'redirect',
  304: 'not_modified',
  400: 'invalid',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  408: 'timeout',
  410: 'gone',
  412: 'invalid',
  416: 'invalid',
};
const playlistType = 'application/vnd.apple.mpegurl';

/**
 * Edge reads (`/m/*`) by outcome, with their latency: the edge's RED in one histogram (its count is the
 * rate, the non-redirect outcomes are the errors). One observation per read, in a callback-style onResponse
 * hook (an async one costs a promise per read) on recorders made here once. The hook is attached to the
 * read routes alone as they are declared, so no other request runs it and no read asks which route it took
 * (`request.routeOptions` builds an object on every access).
 */
export function instrumentEdgeReads(app: FastifyInstance, registry: Registry): void {
  const decisions = HotHistogram.in(registry, {
    name: edgeDecisionMetric,
    help: 'Edge reads by outcome (redirect, playlist, bytes, not_modified, not_found, forbidden, gone, unauthenticated, invalid, timeout, error, other)',
    label: 'outcome',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
  });
  const recorders = new Map<number, (seconds: number) => void>();
  for (const [status, outcome] of Object.entries(outcomeByStatus)) {
    recorders.set(Number(status), decisions.series(outcome));
  }
  const serverError = decisions.series('error');
  const other = decisions.series('other');
  const playlist = decisions.series('playlist');
  const bytes = decisions.series('bytes');
  const recordRead: onResponseHookHandler = (_request, reply, done) => {
    const status = reply.statusCode;
    const record =
      status === 200
        ? String(reply.getHeader('content-type')).startsWith(playlistType)
          ? playlist
          : bytes
        : (recorders.get(status) ?? (status >= 500 ? serverError : other));
    record(reply.elapsedTime / 1000);
    done();
  };
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/m/')) return;
    const declared = route.onResponse;
    route.onResponse = declared === undefined ? [recordRead] : [declared, recordRead].flat();
  });
}
