import {
  type Attributes,
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';

export type { Span };
export { SpanKind };

const tracer = () => trace.getTracer('mediagate');

/**
 * Runs `work` in a new span, child of `parent` (else of the active span). The span records a thrown error
 * and ends when `work` settles. Without a tracer provider this is the API's no-op span, next to free.
 */
export function inSpan<T>(
  name: string,
  options: { kind?: SpanKind; attributes?: Attributes; parent?: Context },
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = options.parent ?? context.active();
  return tracer().startActiveSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes },
    parent,
    async (span) => {
      try {
        return await work(span);
      } catch (error) {
        failed(span, error);
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

export function failed(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}

/** Adds what the code learnt on the way (the media id a request is about) to the active span. */
export function annotateActiveSpan(attributes: Attributes): void {
  trace.getActiveSpan()?.setAttributes(attributes);
}

/** Starts a span that the caller ends, child of `parent`: for spans that outlive the call that starts them. */
export function startSpan(name: string, kind: SpanKind, parent: Context, attributes?: Attributes): Span {
  return tracer().startSpan(name, { kind, attributes }, parent);
}

/** The W3C `traceparent` of the active span, or undefined when nothing is being traced. */
export function activeTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/**
 * Marks the creation of a message in the active trace (a PRODUCER span of no duration: the OpenTelemetry
 * messaging `create` operation) and returns its `traceparent`, for whoever consumes the message to continue.
 * Undefined when nothing is being traced.
 */
export function createMessageSpan(topic: string, messageId: string): string | undefined {
  const parent = context.active();
  if (!trace.getSpan(parent)) return undefined;
  const span = tracer().startSpan(
    `create ${topic}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.operation.type': 'create',
        'messaging.destination.name': topic,
        'messaging.message.id': messageId,
      },
    },
    parent,
  );
  span.end();
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(parent, span), carrier);
  return carrier.traceparent;
}

/**
 * The `traceparent` header for a message published now: the active span's, else `fallback` (the trace of
 * the message being handled, when this process does not trace), else none.
 */
export function traceHeader(fallback?: string): { traceparent?: string } {
  const traceparent = activeTraceparent() ?? fallback;
  return traceparent ? { traceparent } : {};
}

/** The context a `traceparent` (from a message or a request) continues; the root context when absent or malformed. */
export function contextFromTraceparent(traceparent: string | undefined): Context {
  if (!traceparent) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, { traceparent });
}

/** `trace_id`/`span_id` of the active span for log lines; empty outside any trace. */
export function activeTraceFields(): { trace_id?: string; span_id?: string } {
  const span = trace.getSpan(context.active());
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

/** The trace id inside a `traceparent` (`00-<trace id>-<span id>-<flags>`), for views that store the header. */
export function traceIdOf(traceparent: string | null | undefined): string | null {
  const match = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(traceparent ?? '');
  return match?.[1] ?? null;
}
