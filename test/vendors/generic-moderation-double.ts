import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Fault, FaultQueue } from './faults.ts';

/**
 * The in-house moderation model's contract (platform/moderation/generic-http.ts) on loopback. Each image
 * carries what the model should say as markers (see genericModerationImage): category scores, or that the
 * judgement is deferred (`{pending: true, jobId}`, answered 202).
 */
export interface GenericModerationDouble {
  url: string;
  token: string;
  readonly calls: number;
  readonly requests: { mediaId: string; kind: string; contentHash?: string; url?: string; images: number }[];
  fail(...faults: Fault[]): void;
  close(): Promise<void>;
}

const scoreMarker = /generic-double:([\w.-]+)=([\d.]+);/g;
const pendingMarker = 'generic-double:pending;';

export function genericModerationImage(
  scores: Record<string, number> = {},
  options: { pending?: boolean } = {},
): Buffer {
  const markers = Object.entries(scores).map(([name, score]) => `generic-double:${name}=${score};`);
  if (options.pending) markers.push(pendingMarker);
  return Buffer.concat([
    Buffer.from([0xff, 0xd8, 0xff, 0xe0]),
    Buffer.from(markers.join('')),
    Buffer.from([0xff, 0xd9]),
  ]);
}

type Body = { mediaId?: unknown; kind?: unknown; contentHash?: unknown; url?: unknown; images?: unknown };

export async function startGenericModerationDouble(
  options: { token?: string } = {},
): Promise<GenericModerationDouble> {
  const token = options.token ?? 'in-house-model-token';
  const faults = new FaultQueue((status) => ({ error: `injected ${status}` }));
  const requests: GenericModerationDouble['requests'] = [];
  let jobs = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method !== 'POST' || req.url !== '/moderate') return send(res, 404, { error: 'not found' });
    let body: Body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Body;
    } catch {
      return send(res, 400, { error: 'body is not JSON' });
    }
    const images = Array.isArray(body.images)
      ? (body.images as { contentType?: unknown; dataBase64?: unknown }[])
      : [];
    requests.push({
      mediaId: String(body.mediaId),
      kind: String(body.kind),
      contentHash: typeof body.contentHash === 'string' ? body.contentHash : undefined,
      url: typeof body.url === 'string' ? body.url : undefined,
      images: images.length,
    });
    if (await faults.play(res)) return;
    if (req.headers.authorization !== `Bearer ${token}`) return send(res, 401, { error: 'bad token' });
    if (typeof body.mediaId !== 'string' || !['image', 'video', 'audio'].includes(String(body.kind))) {
      return send(res, 400, { error: 'mediaId and kind are required' });
    }
    const decoded = images.map((image) =>
      Buffer.from(String(image.dataBase64 ?? ''), 'base64').toString('latin1'),
    );
    if (decoded.some((text) => text.includes(pendingMarker))) {
      jobs += 1;
      return send(res, 202, { pending: true, jobId: `job-${jobs}` });
    }
    const categories: Record<string, number> = { nsfw: 0.01, violence: 0.01 };
    for (const text of decoded) {
      for (const [, name = '', score] of text.matchAll(scoreMarker)) {
        categories[name] = Math.max(categories[name] ?? 0, Number(score));
      }
    }
    send(res, 200, { categories });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: Error) => send(res, 500, { error: error.message }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/moderate`,
    token,
    get calls() {
      return requests.length;
    },
    requests,
    fail: (...list) => faults.push(...list),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
