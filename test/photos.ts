import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { MediaView } from '../contracts/media.ts';
import type { UploadSession } from '../contracts/uploads.ts';
import { apiClient, putParts, type Reply } from './client.ts';
import type { Platform } from './harness.ts';

/** Helpers the storage-economy suites share: uploads, copies, traces and sweeps, all over HTTP. */

export type Client = ReturnType<typeof apiClient>;
export type CreateReply = Reply<{ deduplicated: true; media: MediaView } & UploadSession>;

export const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

export async function createSession(
  client: Client,
  bytes: Buffer,
  extra: { sha256?: string; filename?: string; contentType?: string; size?: number } = {},
): Promise<CreateReply> {
  return client.post('/v1/uploads', {
    filename: extra.filename ?? 'photo.jpg',
    contentType: extra.contentType ?? 'image/jpeg',
    size: extra.size ?? bytes.length,
    ...(extra.sha256 ? { sha256: extra.sha256 } : {}),
  });
}

/** PUTs every part of `bytes` and completes; the caller decides what the completion should answer. */
export async function sendAndComplete(client: Client, session: UploadSession, bytes: Buffer) {
  const parts = await putParts(session, bytes);
  return client.post<MediaView & { code?: string }>(`/v1/uploads/${session.uploadId}/complete`, { parts });
}

/** A full upload without a declared hash, waited on until processing settles. */
export async function uploadPhoto(client: Client, bytes: Buffer, filename = 'photo.jpg'): Promise<MediaView> {
  const created = await createSession(client, bytes, { filename });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const completed = await sendAndComplete(client, created.body, bytes);
  assert.equal(completed.status, 202, JSON.stringify(completed.body));
  return client.waitForMedia(created.body.mediaId, (m) => m.status !== 'processing');
}

export interface Trace {
  media: { objectKey: string; ownerId: string; status: string; sha256: string | null };
  events: { fromStatus: string | null; toStatus: string; detail: Record<string, unknown> | null }[];
  outbox: { eventType: string; payload: unknown }[];
  variants: { objectKey: string; quality: string; format: string; bytes: number }[];
}

export async function trace(platform: Platform, mediaId: string): Promise<Trace> {
  const admin = apiClient(platform, platform.token('ops', { admin: true }));
  const reply = await admin.get<Trace>(`/v1/ops/media/${mediaId}/trace`);
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  return reply.body;
}

/** Every storage key a media points at: its original and each variant. */
export function keysOf(t: Trace): string[] {
  return [t.media.objectKey, ...t.variants.map((v) => v.objectKey)].sort();
}

export interface SweepReport {
  sessionsExpired: number;
  orphansQueued: number | null;
  objectsDeleted: number;
  objectsKept: number;
}

export async function sweep(platform: Platform, body: { graceSeconds?: number } = {}): Promise<SweepReport> {
  const admin = apiClient(platform, platform.token('ops', { admin: true }));
  const reply = await admin.post<SweepReport>('/v1/ops/storage/sweep', body);
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  return reply.body;
}

export async function stored(platform: Platform, key: string): Promise<boolean> {
  return (await platform.storage.head(key)) !== undefined;
}

/** Follows the edge's redirect like a browser would; `bytes` only when the edge allowed the read. */
export async function readThroughEdge(
  url: string,
  bearer?: string,
): Promise<{ status: number; bytes?: Buffer }> {
  const redirect = await fetch(url, {
    redirect: 'manual',
    headers: bearer ? { authorization: `Bearer ${bearer}` } : {},
  });
  if (redirect.status !== 302) return { status: redirect.status };
  const object = await fetch(redirect.headers.get('location') ?? '');
  assert.equal(object.status, 200, `storage answered ${object.status} for ${url}`);
  return { status: 302, bytes: Buffer.from(await object.arrayBuffer()) };
}
