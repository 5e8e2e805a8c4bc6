import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Deduplicated } from '../api/uploads/dedupe.ts';
import type { MediaView } from '../contracts/media.ts';
import type { UploadSession } from '../contracts/uploads.ts';

const typesByExtension: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.heic': 'image/heic',
  '.avif': 'image/avif',
  '.mp4': 'video/mp4',
  '.mov': 'video/quicktime',
  '.webm': 'video/webm',
  '.mkv': 'video/x-matroska',
  '.mp3': 'audio/mpeg',
  '.m4a': 'audio/mp4',
  '.wav': 'audio/wav',
  '.flac': 'audio/flac',
  '.ogg': 'audio/ogg',
};

export interface UploadOptions {
  apiUrl: string;
  token: string;
  contentType?: string;
  timeoutMs?: number;
  onProgress?: (line: string) => void;
}

/**
 * A small client doing what a mobile app does: create the session, PUT the parts straight to storage,
 * complete, then wait for the media to settle. Returns the final media view.
 */
export async function uploadFile(path: string, options: UploadOptions): Promise<MediaView> {
  const { size } = await stat(path);
  const contentType = options.contentType ?? typesByExtension[extname(path).toLowerCase()];
  if (!contentType) throw new Error(`Cannot tell the type of ${path}; pass --type`);
  const say = options.onProgress ?? (() => {});
  const api = async <T>(method: string, route: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${options.apiUrl}${route}`, {
      method,
      headers: {
        authorization: `Bearer ${options.token}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${route} → ${response.status}: ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };

  const sha256 = await hashFile(path);
  const answer = await api<UploadSession | Deduplicated>('POST', '/v1/uploads', {
    filename: basename(path),
    contentType,
    size,
    sha256,
  });
  // The caller already has these bytes ready: the API answers with a copy of that media, nothing to send.
  if ('deduplicated' in answer) {
    say(`media ${answer.media.id}: already uploaded (a copy of a media with the same bytes)`);
    return answer.media;
  }
  const session = answer;
  say(`media ${session.mediaId}: ${session.partCount} part(s) of ${session.partSize} bytes`);
  const parts: { partNumber: number; etag: string }[] = [];
  for (const part of session.parts) {
    const start = (part.partNumber - 1) * session.partSize;
    const end = Math.min(size, start + session.partSize) - 1;
    const response = await fetch(part.url, {
      method: 'PUT',
      headers: { 'content-length': String(end - start + 1) },
      body: Readable.toWeb(createReadStream(path, { start, end })) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    if (!response.ok)
      throw new Error(`part ${part.partNumber} → ${response.status}: ${await response.text()}`);
    parts.push({ partNumber: part.partNumber, etag: response.headers.get('etag') ?? '' });
    say(`part ${part.partNumber}/${session.partCount} stored`);
  }
  const started = Date.now();
  let media = await api<MediaView>('POST', `/v1/uploads/${session.uploadId}/complete`, { parts });
  say(`completed: ${media.status}`);
  const deadline = started + (options.timeoutMs ?? 120_000);
  while (media.status === 'processing' && Date.now() < deadline) {
    await sleep(250);
    media = await api<MediaView>('GET', `/v1/media/${session.mediaId}`);
  }
  say(`${media.status} ${Date.now() - started} ms after complete`);
  return media;
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
