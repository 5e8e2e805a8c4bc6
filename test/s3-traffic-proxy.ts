import { createServer, request as forward } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface S3Traffic {
  endpoint: string;
  /** Response bytes served for ranged GETs of one key (the gate's reads; the worker reads whole objects). */
  rangedBytes(key: string): number;
  /** Every request that came through, in order, with the status storage answered. */
  requests: { method: string; path: string; status: number }[];
  close(): Promise<void>;
}

/**
 * A byte-counting HTTP proxy in front of the S3 server. It forwards requests unchanged, Host header
 * included, so SigV4 signatures made for the proxy's address verify at the server.
 */
export async function startS3TrafficProxy(target: string): Promise<S3Traffic> {
  const upstream = new URL(target);
  const ranged = new Map<string, number>();
  const requests: S3Traffic['requests'] = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/');
    const counted = req.method === 'GET' && req.headers.range !== undefined;
    const out = forward(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (reply) => {
        requests.push({ method: req.method ?? '', path, status: reply.statusCode ?? 502 });
        res.writeHead(reply.statusCode ?? 502, reply.headers);
        // Count what reaches the client, and stop pulling from the server once the client hangs up, as a
        // direct connection would.
        res.on('close', () => reply.destroy());
        reply.on('data', (chunk: Buffer) => {
          if (!res.write(chunk)) reply.pause();
          if (counted) ranged.set(path, (ranged.get(path) ?? 0) + chunk.length);
        });
        res.on('drain', () => reply.resume());
        reply.on('end', () => res.end());
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    rangedBytes: (key) =>
      [...ranged].filter(([path]) => path.endsWith(`/${key}`)).reduce((n, [, b]) => n + b, 0),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
