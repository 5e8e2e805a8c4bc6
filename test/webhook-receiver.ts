import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  id: string;
  type: string;
  /** The event's own timestamp (when it happened) and when it arrived here, ms since the epoch. */
  eventAt: number;
  receivedAt: number;
  payload: { id: string; type: string; timestamp: string; data: Record<string, unknown> };
}

/**
 * A real HTTP receiver for outgoing webhooks: it verifies every request with the `standardwebhooks`
 * package as an app would, and answers as `respond` says (default 204). Requests that fail verification
 * are counted, never accepted.
 */
export interface WebhookReceiver {
  url: string;
  port: number;
  /** Every verified delivery, in arrival order (repeats included). */
  received: Received[];
  rejected: number;
  /** Set after the endpoint is registered: the secret it verifies with. */
  secret?: string;
  respond: (req: IncomingMessage, res: ServerResponse, body: string) => void;
  /** Resolves when `predicate` holds over `received`; fails after `timeoutMs`. */
  waitFor(predicate: (received: Received[]) => boolean, timeoutMs: number, what: string): Promise<void>;
  close(): Promise<void>;
  listen(port?: number): Promise<void>;
}

export async function startWebhookReceiver(port = 0): Promise<WebhookReceiver> {
  const waiters = new Set<() => void>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      try {
        const payload = new Webhook(receiver.secret ?? '').verify(
          body,
          req.headers as Record<string, string>,
        );
        const event = payload as Received['payload'];
        receiver.received.push({
          id: String(req.headers['webhook-id']),
          type: event.type,
          eventAt: Date.parse(event.timestamp),
          receivedAt: Date.now(),
          payload: event,
        });
      } catch {
        receiver.rejected++;
        res.writeHead(401).end('bad signature');
        return;
      }
      receiver.respond(req, res, body);
      for (const wake of waiters) wake();
    });
  });
  server.keepAliveTimeout = 1000;
  const receiver: WebhookReceiver = {
    url: '',
    port: 0,
    received: [],
    rejected: 0,
    respond: (_req, res) => res.writeHead(204).end(),
    async waitFor(predicate, timeoutMs, what) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(receiver.received)) {
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for ${what} (${receiver.received.length} received)`);
        await new Promise<void>((resolve) => {
          const wake = () => {
            waiters.delete(wake);
            resolve();
          };
          waiters.add(wake);
          setTimeout(wake, 100);
        });
      }
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
    listen: (p = receiver.port) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(p, '127.0.0.1', () => {
          receiver.port = (server.address() as AddressInfo).port;
          receiver.url = `http://127.0.0.1:${receiver.port}/hooks`;
          resolve();
        });
      }),
  };
  await receiver.listen(port);
  return receiver;
}
