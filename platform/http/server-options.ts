import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { answerClientError } from './client-errors.ts';
import { problemOf, sendProblem } from './problem.ts';
import { requestTimeouts } from './timeouts.ts';

/**
 * Server options the api and the edge share. `return503OnClosing: false`: during a graceful shutdown a
 * request that arrives on a keep-alive connection still in use is served (with `Connection: close`)
 * rather than refused with Fastify's bare 503; the listener is already closed, so no new connection
 * comes, and the role stops once those requests have drained.
 */
export function serverOptions(requestTimeoutMs: number) {
  const timeouts = requestTimeouts(requestTimeoutMs);
  return {
    ...timeouts,
    clientErrorHandler: answerClientError,
    return503OnClosing: false,
    // A request without Host is refused by `installRequestFraming`, as problem+json, not by Node's bare 400.
    http: { ...timeouts.http, requireHostHeader: false },
    // A URL the router cannot decode (`/m/derived/%ff`) is the same 400 on every role.
    frameworkErrors: (error: FastifyError, _request: FastifyRequest, reply: FastifyReply) =>
      sendProblem(reply, problemOf('validation_failed', error.message)),
  };
}
