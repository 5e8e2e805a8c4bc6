import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { AppError, type ErrorCode, errorCatalogue, problemTypeBase } from '../../contracts/errors.ts';
import type { Problem } from '../../contracts/problem.ts';
import { ModerationUnavailableError } from '../moderation/moderation.ts';
import { isMissingBucket } from '../storage/missing-bucket.ts';
import { StorageUnavailableError } from '../storage/object-storage.ts';
import { allowedMethods } from './allowed-methods.ts';
import { clientErrorCode } from './client-status.ts';
import { isDatabaseUnavailable, sendOutage } from './database-errors.ts';
import { databaseInputError } from './database-input-errors.ts';

export function problemOf(code: ErrorCode, detail?: string, errors?: Problem['errors']): Problem {
  const { status, title } = errorCatalogue[code];
  return { type: `${problemTypeBase}${code}`, title, status, code, detail: detail ?? title, errors };
}

declare module 'fastify' {
  interface FastifyReply {
    /** The problem's stable code, for the request metrics (platform/metrics/http.ts). */
    problemCode?: string;
  }
}

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  reply.problemCode = problem.code;
  return reply.status(problem.status).type('application/problem+json').send(problem);
}

/** Every error leaves the process as problem+json with a stable code; nothing leaks a stack trace. */
export function installProblemHandlers(app: FastifyInstance): void {
  app.decorateReply('problemCode', undefined);
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const allowed = allowedMethods(app, path);
    if (allowed.length === 0) {
      return sendProblem(reply, problemOf('not_found', `No route for ${request.method} ${path}`));
    }
    reply.header('allow', allowed.join(', '));
    return sendProblem(
      reply,
      problemOf(
        'method_not_allowed',
        `${path} does not serve ${request.method}; it serves ${allowed.join(', ')}`,
      ),
    );
  });
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof AppError) {
      reply.headers(error.headers);
      return sendProblem(reply, problemOf(error.code, error.message));
    }
    // Outages of what the gate depends on: the upload is kept and completing again is safe.
    if (error instanceof ModerationUnavailableError) {
      reply.header('retry-after', String(error.retryAfterSeconds));
      return sendProblem(reply, problemOf('moderation_unavailable', error.message));
    }
    if (isDatabaseUnavailable(error) || isMissingBucket(error)) return sendOutage(request, reply, error);
    if (error instanceof StorageUnavailableError) {
      reply.header('retry-after', '5');
      return sendProblem(reply, problemOf('storage_unavailable', error.message));
    }
    if (error.validation) {
      const errors = error.validation.map((v) => ({
        path: `${error.validationContext ?? ''}${v.instancePath || ''}`,
        message: v.message ?? 'invalid',
      }));
      return sendProblem(reply, problemOf('validation_failed', error.message, errors));
    }
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return sendProblem(reply, problemOf('unsupported_media_type', 'Send the body as application/json'));
    }
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return sendProblem(reply, problemOf('request_too_large', error.message));
    }
    if (
      error instanceof SyntaxError ||
      error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
      error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY'
    ) {
      return sendProblem(reply, problemOf('malformed_json', error.message));
    }
    const refusedInput = databaseInputError(error);
    if (refusedInput) {
      request.log.warn({ err: error }, 'database refused a request value the schema let through');
      return sendProblem(reply, problemOf('validation_failed', refusedInput));
    }
    // Any other request refused with a 4xx — by Fastify (a bad Content-Length), a plugin (@fastify/send's
    // 403 for `/docs/static/..`, the rate limiter) — is the client's: its catalogue code, never a 500.
    const refused = clientErrorCode(error.statusCode);
    if (refused) {
      request.log.info(
        { statusCode: error.statusCode, reason: error.message, code: refused },
        'request refused',
      );
      // Fastify's own messages are written for clients; a plugin's may name files or internals.
      const detail = error.code?.startsWith('FST_') || refused === 'rate_limited' ? error.message : undefined;
      return sendProblem(reply, problemOf(refused, detail));
    }
    request.log.error(
      { err: error, reqId: request.id, method: request.method, url: request.url },
      'unhandled error',
    );
    return sendProblem(reply, problemOf('internal_error', 'An internal error occurred; it has been logged'));
  });
}
