import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { MediaView } from '../contracts/media.ts';
import type { UploadSession } from '../contracts/uploads.ts';
import { apiClient, putParts } from './client.ts';
import type { Platform } from './harness.ts';

// Steps the end-to-end suites share: drive an upload as a phone does, and look at what became of it as an
// operator does.

type Client = ReturnType<typeof apiClient>;

export interface StoredUpload {
  session: UploadSession;
  parts: { partNumber: number; etag: string }[];
}

/** What a phone does before it says "complete": create the session and PUT every part to storage. */
export async function storeUpload(
  client: Client,
  bytes: Buffer,
  filename = 'photo.jpg',
): Promise<StoredUpload> {
  const created = await client.post<UploadSession>('/v1/uploads', {
    filename,
    contentType: 'image/jpeg',
    size: bytes.length,
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const session = created.body;
  const parts = await putParts(session, bytes);
  return { session, parts };
}

/** Completes a stored upload; the gate accepts it and the media starts `processing`. */
export async function completeUpload(client: Client, upload: StoredUpload): Promise<MediaView> {
  const reply = await client.post<MediaView>(`/v1/uploads/${upload.session.uploadId}/complete`, {
    parts: upload.parts,
  });
  assert.equal(reply.status, 202, JSON.stringify(reply.body));
  return reply.body;
}

/** Runs `work` over `items`, at most `width` at a time, in order of start. */
export async function inBatches<T, R>(
  items: T[],
  width: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += width)
    out.push(...(await Promise.all(items.slice(i, i + width).map(work))));
  return out;
}

/** The parts of `GET /v1/ops/media/:id/trace` the suites look at. */
export interface MediaTrace {
  media: { status: string };
  events: {
    at: string;
    fromStatus: string | null;
    toStatus: string;
    detail: Record<string, unknown> | null;
  }[];
  outbox: {
    id: string;
    eventType: string;
    replayOf: string | null;
    publishedAt: string | null;
    attempts: number;
    lastError: string | null;
  }[];
  variants: { quality: string; objectKey: string }[];
}

export async function traceMedia(platform: Platform, mediaId: string): Promise<MediaTrace> {
  const reply = await apiClient(platform, platform.token('ops', { admin: true })).get<MediaTrace>(
    `/v1/ops/media/${mediaId}/trace`,
  );
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  return reply.body;
}

/**
 * Waits for the media to leave `processing`; when it does not, the failure says where its request got stuck
 * (relayed or not, the relay's last error, the worker's last words).
 */
export async function settled(platform: Platform, client: Client, mediaId: string, timeoutMs = 60_000) {
  try {
    return await client.waitForMedia(mediaId, (m) => m.status !== 'processing', timeoutMs);
  } catch (error) {
    const { outbox } = await traceMedia(platform, mediaId);
    const worker = platform.roles.worker.output.slice(-20).join('\n');
    throw new Error(`${(error as Error).message}\noutbox: ${JSON.stringify(outbox)}\nworker:\n${worker}`);
  }
}

const cli = fileURLToPath(new URL('../bin/mediagate.ts', import.meta.url));

/** Runs an operator command (`outbox …`, `dlq …`) with the platform's settings and parses its JSON answer. */
export async function mediagate<T = unknown>(platform: Platform, args: string[]): Promise<T> {
  const { stdout } = await promisify(execFile)(process.execPath, [cli, ...args], {
    env: { ...process.env, ...platform.env },
  });
  return JSON.parse(stdout) as T;
}
