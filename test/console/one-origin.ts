import { createServer, request, type Server } from 'node:http';

/**
 * One origin in front of the api and the edge, as a single-domain deployment routes them (`/m/` to the edge,
 * the rest to the api): the console then reads HLS playlists from its own origin. Streams both ways, so
 * Server-Sent Events pass as they are written.
 */
export function startOneOrigin(port: number, apiUrl: () => string, edgeUrl: () => string): Promise<Server> {
  const server = createServer((req, res) => {
    const target = new URL(req.url ?? '/', req.url?.startsWith('/m/') ? edgeUrl() : apiUrl());
    const upstream = request(
      target,
      { method: req.method, headers: { ...req.headers, host: target.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}
