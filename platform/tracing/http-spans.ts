import { context, propagation, ROOT_CONTEXT, type Span, SpanStatusCode, trace } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { tracingActive } from './sdk.ts';
import { SpanKind, startSpan } from './spans.ts';

/**
 * A SERVER span per request, named by its route (`POST /v1/uploads/:uploadId/complete`), never by the raw
 * path. It continues a caller's W3C `traceparent` (a malformed one is ignored), and the rest of the request
 * runs inside it, so the spans, outbox rows and log lines it causes join its trace. Register it before any
 * other hook, so that they run inside the span too. Nothing is installed when tracing is off.
 */
export function traceHttp(app: FastifyInstance): void {
  if (!tracingActive()) return;
  const spans = new WeakMap<FastifyRequest, Span>();
  app.addHook('onRequest', (request, _reply, done) => {
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const route = request.routeOptions.url;
    const span = startSpan(route ? `${request.method} ${route}` : request.method, SpanKind.SERVER, parent, {
      'http.request.method': request.method,
      ...(route ? { 'http.route': route } : {}),
    });
    spans.set(request, span);
    context.with(trace.setSpan(parent, span), done);
  });
  app.addHook('onResponse', (request, reply, done) => {
    const span = spans.get(request);
    if (span) {
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
    done();
  });
  app.addHook('onRequestAbort', (request, done) => {
    const span = spans.get(request);
    span?.setStatus({ code: SpanStatusCode.ERROR, message: 'client aborted the request' });
    span?.end();
    done();
  });
}
