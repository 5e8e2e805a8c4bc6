import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { Problem } from '../../contracts/problem.ts';
import { problemOf } from './problem.ts';

interface ParserError extends Error {
  code?: string;
  reason?: unknown;
}

/**
 * What Node's HTTP parser refused before any route saw the request, told in the client's words. The
 * parser's own codes (`HPE_…`) go in the log, not the answer.
 */
function refusalOf(error: ParserError) {
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return problemOf('request_timeout', 'The request headers and body must arrive within the time limit');
  }
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    return problemOf('headers_too_large', 'The request line and headers together exceed 16 KiB');
  }
  const details: Record<string, string> = {
    HPE_INVALID_CONTENT_LENGTH: 'Content-Length must be a non-negative whole number of bytes',
    HPE_UNEXPECTED_CONTENT_LENGTH: 'Send Content-Length or Transfer-Encoding, never both',
    HPE_INVALID_TRANSFER_ENCODING: 'Transfer-Encoding must be chunked alone',
    HPE_INVALID_HEADER_TOKEN: 'A header name or value holds a character HTTP does not allow',
  };
  const detail = Object.hasOwn(details, error.code ?? '') ? details[error.code ?? ''] : undefined;
  return problemOf('malformed_request', detail ?? 'The request is not valid HTTP/1.1');
}

/**
 * Fastify's `clientErrorHandler` for the api and the edge: a request Node's parser refused (a URL or
 * header past the size limit, `Content-Length: -1`, Transfer-Encoding with Content-Length, NUL in a
 * header, a timed-out body) is answered with problem+json like every other refusal, on the raw socket,
 * and the connection is closed: after a framing error nothing more on it can be trusted.
 */
export function answerClientError(this: FastifyInstance, error: ParserError, socket: Socket): void {
  refuseParserError(this.log, error, socket);
}

/** The same for a plain `node:http` server (the metrics endpoint), as its `clientError` listener. */
export function refuseParserError(
  log: { info(fields: object, message: string): void },
  error: ParserError,
  socket: Socket,
): void {
  // A reset connection has no one left to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const problem = refusalOf(error);
  log.info(
    { code: problem.code, parserCode: error.code, reason: error.reason },
    'request refused by the parser',
  );
  // As Node does: once a response to an earlier request on this socket has started, a second one written
  // over it would corrupt both, so the connection is only closed.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (!socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  answerOnSocket(socket, problem);
}

/** A problem+json answer written on a socket no HTTP response object owns, which is then closed. */
export function answerOnSocket(socket: Duplex, problem: Problem): void {
  const body = JSON.stringify(problem);
  socket.end(
    `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\n` +
      'Content-Type: application/problem+json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}
