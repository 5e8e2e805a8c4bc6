import type { FastifyReply, FastifyRequest } from 'fastify';
import { problemOf, sendProblem } from './problem.ts';

/**
 * Errors that mean "the database connection is gone" rather than "this query is wrong": an administrator
 * or failover ended the session (57P01, 57P02), the server is starting or shutting down (57P03), the
 * connection broke (class 08), or the socket did. The request in flight can only be answered with
 * "retry later"; the pool replaces the connection for the next one.
 */
const unavailableSqlStates = new Set([
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08003',
  '08006',
  '08001',
  '08004',
]);
const unavailableSocketCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND']);
const unavailableMessages = [
  'Connection terminated',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'timeout exceeded when trying to connect',
];

/** Seconds a client should wait before retrying: long enough for a restart or failover to finish. */
export const databaseRetryAfterSeconds = 5;
/** A bucket comes back only when an operator creates it: no point in asking sooner. */
const missingBucketRetryAfterSeconds = 60;

/**
 * True when the error, or any error in its `cause` chain (drizzle wraps driver errors), is a lost or
 * refused database connection.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 8; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && (unavailableSqlStates.has(code) || unavailableSocketCodes.has(code)))
      return true;
    if (unavailableMessages.some((m) => current instanceof Error && current.message.includes(m))) return true;
    if (current instanceof AggregateError && current.errors.some(isDatabaseUnavailable)) return true;
    current = current.cause;
  }
  return false;
}

/**
 * Answers a request whose database connection or storage bucket went away: 503 with a stable code and
 * `Retry-After`, logged as a warning (an operator's problem, not a bug to chase in a stack trace).
 */
export function sendOutage(request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
  const database = isDatabaseUnavailable(error);
  request.log.warn({ err: error }, database ? 'database unavailable' : 'storage bucket missing');
  reply.header('retry-after', String(database ? databaseRetryAfterSeconds : missingBucketRetryAfterSeconds));
  return sendProblem(reply, problemOf(database ? 'database_unavailable' : 'storage_bucket_missing'));
}
