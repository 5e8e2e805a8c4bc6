import type { FastifyReply } from 'fastify';
import type { ErrorCode } from '../contracts/errors.ts';
import { problemOf } from '../platform/http/problem.ts';

/**
 * A refusal the edge answers often (an unknown key, a revoked one), made once: its problem+json body is
 * serialized at startup, so refusing a read costs what redirecting one does — a scan of made-up keys is
 * as cheap to answer as real traffic, not dearer.
 */
export interface Refusal {
  status: number;
  code: string;
  body: string;
}

export function refusal(code: ErrorCode, detail: string): Refusal {
  const problem = problemOf(code, detail);
  return { status: problem.status, code: problem.code, body: JSON.stringify(problem) };
}

// With its charset, so Fastify neither parses nor rewrites it on every refusal.
const problemJson = 'application/problem+json; charset=utf-8';

/** Sends it as sendProblem would: the same status, headers, body and metrics code. */
export function refuse(reply: FastifyReply, { status, code, body }: Refusal): void {
  reply.problemCode = code;
  reply.code(status).header('content-type', problemJson).send(body);
}
