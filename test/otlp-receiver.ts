import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One span as a tracing backend stores it, from an OTLP/HTTP JSON export. */
export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP's enum: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
  /** 2 is error. */
  status: number;
}

export interface OtlpReceiver {
  /** The base endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`): exporters post to `/v1/traces` under it. */
  endpoint: string;
  spans: ReceivedSpan[];
  /** Protobuf exports (`http/protobuf`, the default protocol): counted, not decoded. */
  protobufExports: number;
  /** Requests that were not a trace export, which a real collector would refuse too. */
  refused: number;
  stop(): Promise<void>;
}

interface AnyValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}
type KeyValues = { key: string; value: AnyValue }[] | undefined;

/**
 * A real OTLP/HTTP receiver, as small as a collector's trace endpoint can be: `POST /v1/traces` with an
 * `application/json` ExportTraceServiceRequest, answered with an empty ExportTraceServiceResponse. It keeps
 * every span it is sent, so a test can assert what a tracing backend would show. Protobuf exports are
 * accepted and counted only.
 */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const receiver = { spans, protobufExports: 0, refused: 0 };
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const type = request.headers['content-type'] ?? '';
    if (request.method !== 'POST' || request.url !== '/v1/traces') {
      receiver.refused++;
      response.writeHead(404).end();
      return;
    }
    if (type === 'application/x-protobuf' && chunks.length > 0) {
      receiver.protobufExports++;
      response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      return;
    }
    if (!type.startsWith('application/json')) {
      receiver.refused++;
      response.writeHead(415).end();
      return;
    }
    try {
      spans.push(...flatten(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    } catch {
      receiver.refused++;
      response.writeHead(400).end();
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return Object.assign(receiver, {
    endpoint: `http://127.0.0.1:${port}`,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

interface ExportRequest {
  resourceSpans?: {
    resource?: { attributes?: KeyValues };
    scopeSpans?: {
      spans?: {
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind?: number;
        attributes?: KeyValues;
        status?: { code?: number };
      }[];
    }[];
  }[];
}

function flatten(body: ExportRequest): ReceivedSpan[] {
  return (body.resourceSpans ?? []).flatMap((rs) => {
    const resource = attributes(rs.resource?.attributes);
    return (rs.scopeSpans ?? []).flatMap((ss) =>
      (ss.spans ?? []).map((span) => ({
        service: String(resource['service.name'] ?? ''),
        traceId: span.traceId,
        spanId: span.spanId,
        parentSpanId: span.parentSpanId ?? '',
        name: span.name,
        kind: span.kind ?? 0,
        attributes: attributes(span.attributes),
        resource,
        status: span.status?.code ?? 0,
      })),
    );
  });
}

function attributes(list: KeyValues): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of list ?? []) {
    out[key] = value.stringValue ?? value.boolValue ?? value.doubleValue ?? Number(value.intValue);
  }
  return out;
}
