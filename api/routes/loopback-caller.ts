import type { FastifyRequest } from 'fastify';

const loopbackNames = ['localhost', '127.0.0.1', '[::1]'];

/**
 * Whether a request was addressed to this server by a loopback name and, when a browser says where it
 * comes from, by a page of that same origin. Listening on loopback is not enough: a page on
 * `evil.example`, whose name resolves to 127.0.0.1 a moment later (DNS rebinding), reaches the server
 * with `Host: evil.example`; and any page may POST cross-origin to `localhost`.
 */
export function isLoopbackCaller(request: FastifyRequest, port: number): boolean {
  const host = request.headers.host?.toLowerCase();
  if (host === undefined || !loopbackNames.some((name) => host === `${name}:${port}`)) return false;
  const origin = request.headers.origin;
  return origin === undefined || origin.toLowerCase() === `http://${host}`;
}
