import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ObjectStorage } from '../../platform/storage/object-storage.ts';

/** Small enough that a seek wastes little, large enough that a header is one round trip. */
const windowBytes = 256 * 1024;

/**
 * Lends ffprobe a loopback URL for one object. Each ffprobe request, open-ended as they are, is answered
 * with one bounded window fetched from storage by a ranged GET; ffprobe asks again (reconnect at EOF) when
 * it wants more. A direct open-ended GET lets the storage server push megabytes into socket buffers that
 * ffprobe never reads; this way storage serves only windows ffprobe asked for.
 */
export async function withRangeWindows<T>(
  storage: ObjectStorage,
  key: string,
  size: number,
  use: (url: string) => Promise<T>,
): Promise<T> {
  const path = `/${randomUUID()}`;
  const server = createServer((request, response) => {
    if (request.url !== path) {
      response.writeHead(404).end();
      return;
    }
    const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? 'bytes=0-');
    const start = Number(range?.[1] ?? 0);
    if (start >= size) {
      response.writeHead(416, { 'content-range': `bytes */${size}` }).end();
      return;
    }
    const asked = range?.[2] ? Number(range[2]) : size - 1;
    const end = Math.min(asked, start + windowBytes - 1, size - 1);
    const headers = {
      'accept-ranges': 'bytes',
      'content-range': `bytes ${start}-${end}/${size}`,
      'content-length': String(end - start + 1),
      'content-type': 'application/octet-stream',
    };
    if (request.method === 'HEAD') {
      response.writeHead(206, headers).end();
      return;
    }
    storage.readRange(key, start, end).then(
      (bytes) => response.writeHead(206, headers).end(bytes),
      () => response.writeHead(502).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await use(`http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}
