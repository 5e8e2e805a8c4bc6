import { pino } from 'pino';
import type { Config } from './config.ts';
import { activeTraceFields } from './tracing/spans.ts';

export type Logger = pino.Logger;

/**
 * When tracing is configured, every line logged inside a trace carries its `trace_id` (and `span_id`), to go
 * from a log line to its trace; otherwise lines are written without looking for one.
 */
export function createLogger(
  config: Pick<Config, 'logLevel' | 'otel'>,
  role: string,
  destination?: pino.DestinationStream,
): Logger {
  const mixin = config.otel ? activeTraceFields : undefined;
  return pino({ level: config.logLevel, base: { role }, ...(mixin ? { mixin } : {}) }, destination);
}
