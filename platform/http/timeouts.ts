import type { ServerOptions } from 'node:http';

/**
 * Fastify turns Node's request timeout off by default, so a client that sends its headers and then a byte
 * a minute holds a socket and a parser for ever. Here the whole request (headers and body) must arrive
 * within `requestTimeoutMs`, or Node answers 408 and closes the connection. Node only looks for late
 * requests every `connectionsCheckingInterval` (30 s by default), so that is scaled to the limit.
 * Responses are not limited: a long answer (a playlist, an event stream) is the server's to finish.
 */
export function requestTimeouts(requestTimeoutMs: number): { requestTimeout: number; http: ServerOptions } {
  return {
    requestTimeout: requestTimeoutMs,
    http: {
      requestTimeout: requestTimeoutMs,
      headersTimeout: Math.min(requestTimeoutMs, 60_000),
      connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(requestTimeoutMs / 10))),
    },
  };
}
