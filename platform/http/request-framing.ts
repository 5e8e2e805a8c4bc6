import type { FastifyInstance } from 'fastify';
import { AppError } from '../../contracts/errors.ts';
import { answerOnSocket } from './client-errors.ts';
import { problemOf } from './problem.ts';

/**
 * What Node's HTTP server settles on its own, with an empty body or none, before Fastify sees a request:
 * a missing `Host` (a bare 400), an `Expect` it does not know (a bare 417), `CONNECT` (the connection
 * dropped). Here they reach the same problem+json answers as every other refusal, for the api and the
 * edge (`serverOptions` turns Node's own Host check off so it gets here); and a request with two `Host` headers, which Node lets through naming the first, is refused:
 * a proxy in front may have routed it by the other one.
 */
export function installRequestFraming(app: FastifyInstance): void {
  // Handled as a request, so the hook below refuses it with the role's logging and metrics.
  app.server.on('checkExpectation', (request, response) => app.server.emit('request', request, response));
  app.server.on('connect', (_request, socket) =>
    answerOnSocket(socket, problemOf('method_not_allowed', 'CONNECT is not served: this is not a proxy')),
  );
  app.addHook('onRequest', async (request) => {
    const raw = request.raw;
    const hosts = raw.rawHeaders.filter((name, i) => i % 2 === 0 && name.toLowerCase() === 'host').length;
    // HTTP/1.0 has no Host header; HTTP/1.1 requires exactly one (RFC 9112 §3.2).
    if (hosts > 1 || (hosts === 0 && raw.httpVersion !== '1.0')) {
      throw new AppError('malformed_request', 'Send exactly one Host header');
    }
    const expect = request.headers.expect;
    if (expect !== undefined && expect.trim().toLowerCase() !== '100-continue') {
      throw new AppError('expectation_failed', 'Only Expect: 100-continue is understood');
    }
  });
}
