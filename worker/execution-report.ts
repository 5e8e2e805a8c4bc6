import { hostname } from 'node:os';
import type { ExecutionReport } from '../contracts/events.ts';
import type { DeliveredMessage } from '../platform/bus/bus.ts';
import { recordedSteps } from '../platform/tracing/steps.ts';

const host = hostname();
/** The contract's bound; a job never comes near it, but a result over it would be refused. */
const maxSteps = 200;

/** The worker's account of the request it is finishing: who ran it, where it was read, its step times. */
export function executionReport(request: DeliveredMessage, startedAt: number): ExecutionReport {
  return {
    version: 1,
    worker: { hostname: host, pid: process.pid },
    ...(request.position ? { request: request.position } : {}),
    totalMs: Math.round(performance.now() - startedAt),
    steps: recordedSteps().slice(0, maxSteps),
  };
}
