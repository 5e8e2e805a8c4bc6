import type { IncomingMessage, Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../contracts/errors.ts';
import { answerOnSocket } from './client-errors.ts';
import { problemOf } from './problem.ts';

/**
 * What Node's HTTP server settles on its own, with an empty body or none, before a handler sees a
 * request: a missing `Host` (a bare 400), an `Expect` it does not know (a bare 417), `CONNECT` (the
 * connection dropped). Here they reach the same problem+json answers as every other refusal, on the api,
 * the edge and the metrics endpoint (each creates its server with `requireHostHeader: false` so a missing
 * Host gets here); and a request with two `Host` headers, which Node lets through naming the first, is
 * refused: a proxy in front may have routed it by the other one.
 */
export function installServerRefusals(server: Server): void {
  // Handed to the handler like any request, where `framingRefusal` answers it.
  server.on('checkExpectation', (request, response) => server.emit('request', request, response));
  server.on('connect', (_request, socket) =>
    answerOnSocket(socket, problemOf('method_not_allowed', 'CONNECT is not served: this is not a proxy')),
  );
}

/** The refusal of a request whose Host or Expect header Node did not judge; undefined when it is fine. */
export function framingRefusal(raw: IncomingMessage): AppError | undefined {
  // Counted in place: this runs on every edge read, the hot path.
  let hosts = 0;
  const names = raw.rawHeaders;
  for (let i = 0; i < names.length; i += 2) {
    const name = names[i] as string;
    if (name.length === 4 && name.toLowerCase() === 'host') hosts++;
  }
  // HTTP/1.0 has no Host header; HTTP/1.1 requires exactly one (RFC 9112 §3.2).
  if (hosts > 1 || (hosts === 0 && raw.httpVersion !== '1.0')) {
    return new AppError('malformed_request', 'Send exactly one Host header');
  }
  const expect = raw.headers.expect;
  if (expect !== undefined && expect.trim().toLowerCase() !== '100-continue') {
    return new AppError('expectation_failed', 'Only Expect: 100-continue is understood');
  }
  return undefined;
}

/** Whether the request says a body follows (a length above 0, or chunks). */
export function declaresBody(raw: IncomingMessage): boolean {
  const length = raw.headers['content-length'];
  return (length !== undefined && length !== '0') || raw.headers['transfer-encoding'] !== undefined;
}

/**
 * Whether bytes of the body are still to come. Node may leave a request short of `complete` until its stream
 * is read, so a body that arrived whole but was never read (refused from the headers) shows as the declared
 * length waiting in the stream's buffer.
 */
function bodyStillArriving(raw: IncomingMessage): boolean {
  if (raw.complete || !declaresBody(raw)) return false;
  const length = raw.headers['content-length'];
  return length === undefined || raw.readableLength < Number(length);
}

/**
 * The api's and the edge's share: the server's refusals, and the header checks before any other hook.
 *
 * An answer given before the request's body has arrived (a 401 or 415 decided from the headers alone, any
 * answer of the edge, which reads no body) closes the connection. Kept open, the rest of that body would
 * be read as the next request, or the request timeout would later send a second answer to a request that
 * already has one. `readsBodies: false` (the edge) closes whenever a body is declared, from the hook it
 * already runs; the api checks, as each answer is sent, whether the body is still arriving.
 */
export function installRequestFraming(app: FastifyInstance, { readsBodies }: { readsBodies: boolean }): void {
  installServerRefusals(app.server);
  // Callback hooks, not async ones: no promise per request on the edge's hot path.
  if (readsBodies) {
    app.addHook('onRequest', (request, _reply, done) => done(framingRefusal(request.raw)));
    app.addHook('onSend', (request, reply, payload, done) => {
      if (bodyStillArriving(request.raw)) reply.header('connection', 'close');
      done(null, payload);
    });
  } else {
    app.addHook('onRequest', (request, reply, done) => {
      if (declaresBody(request.raw)) reply.header('connection', 'close');
      done(framingRefusal(request.raw));
    });
  }
}
