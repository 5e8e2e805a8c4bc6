import assert from 'node:assert/strict';
import { connect } from 'node:net';

/** Raw HTTP/1.1 on a real socket, for what Node's parser and server judge before any handler. */
/** Sends exactly these bytes and reads until the server closes the connection. */
export function exchange(
  port: number,
  bytes: string | Buffer,
): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const answer = Buffer.concat(chunks).toString('utf8');
      const [head = '', body = ''] = answer.split('\r\n\r\n', 2);
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3}) /.exec(head)?.[1] ?? 0), head, body });
    });
    socket.end(bytes);
  });
}

export function assertProblem(
  answer: { status: number; head: string; body: string },
  status: number,
  code: string,
) {
  assert.equal(answer.status, status, `${answer.head}\n${answer.body}`);
  assert.match(answer.head, /content-type: application\/problem\+json/i);
  const problem = JSON.parse(answer.body) as { code: string; status: number; type: string };
  assert.equal(problem.code, code);
  assert.equal(problem.status, status);
}

export const request = (lines: string[], body = '') => `${lines.join('\r\n')}\r\n\r\n${body}`;

/**
 * Sends `bytes` and no more, never closing its side: what the server answers, after how long it hung up,
 * and whether it did within `giveUpMs` (after which the client hangs up itself).
 */
export function stall(
  port: number,
  bytes: string,
  giveUpMs = 120_000,
): Promise<{ answer: string; waitedMs: number; closedByServer: boolean }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    let closedByServer = true;
    socket.setEncoding('latin1');
    socket.on('data', (chunk) => {
      answer += chunk;
    });
    socket.on('error', reject);
    const giveUp = setTimeout(() => {
      closedByServer = false;
      socket.destroy();
    }, giveUpMs);
    socket.on('close', () => {
      clearTimeout(giveUp);
      resolve({ answer, waitedMs: Date.now() - started, closedByServer });
    });
    socket.write(bytes);
  });
}
