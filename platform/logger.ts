import { pino } from 'pino';
import type { Config } from './config.ts';
import { activeTraceFields } from './tracing/spans.ts';

export type Logger = pino.Logger;

/** Every line logged inside a trace carries its `trace_id` (and `span_id`), to go from a log to its trace. */
export function createLogger(config: Pick<Config, 'logLevel'>, role: string): Logger {
  return pino({ level: config.logLevel, base: { role }, mixin: activeTraceFields });
}
