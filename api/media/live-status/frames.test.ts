import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../../platform/config.ts';
import { formatCursor, parseCursor } from './cursor.ts';
import { framesSince, openingFrames, type StreamPosition } from './frames.ts';
import type { MediaRow, TransitionRow, VariantRow } from './reads.ts';

const config = loadConfig({ JWT_SECRET: 'a-test-secret-of-enough-length' });
const owner = { sub: 'alice', roles: [] };
const mediaId = '00000000-0000-4000-8000-000000000001';
const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));

const row = (patch: Partial<MediaRow> = {}): MediaRow => ({
  id: mediaId,
  ownerId: 'alice',
  kind: 'video',
  status: 'processing',
  bucket: 'b',
  objectKey: `raw/${mediaId}/x`,
  filename: 'clip.mp4',
  contentType: 'video/mp4',
  sizeBytes: 1000,
  declaredSha256: null,
  sha256: null,
  displayKey: null,
  thumbnailKey: null,
  placeholder: null,
  metadata: null,
  probe: null,
  progress: null,
  position: 0,
  visibility: 'private',
  moderationStatus: null,
  moderationJobId: null,
  failureCode: null,
  failureDetail: null,
  createdAt: at(0),
  updatedAt: at(1),
  ...patch,
});

const move = (id: number, from: string | null, to: string, actor = 'worker'): TransitionRow => ({
  id,
  mediaId,
  at: at(id),
  fromStatus: from,
  toStatus: to,
  actor,
  detail: null,
});

const variant = (quality: string, second: number, bytes: number, format = 'mp4'): VariantRow => ({
  mediaId,
  quality,
  format,
  objectKey: `derived/${mediaId}/r/${quality}.${format}`,
  width: 640,
  height: 360,
  bytes,
  createdAt: at(second),
});

const position = (id: string, progress: string | null = null): StreamPosition => ({
  cursor: parseCursor(id) ?? { eventId: 0, qualities: new Set() },
  progress,
});

test('renditions are announced once each, in the order they were stored; AVIF siblings never', () => {
  const variants = [
    variant('medium', 20, 900),
    variant('low', 10, 300),
    variant('low-avif', 10, 200, 'avif'),
    variant('poster', 10, 50, 'webp'),
  ];
  const first = framesSince(config, owner, row(), [], variants, position('2.low'));
  assert.deepEqual(
    first.frames.map((f) => [f.type, f.id]),
    [
      ['media.variant.ready', '2.low,poster'],
      ['media.variant.ready', '2.low,medium,poster'],
    ],
  );
  assert.equal(formatCursor(first.position.cursor), '2.low,medium,poster');
  assert.deepEqual(framesSince(config, owner, row(), [], variants, first.position).frames, []);
});

test('progress has no id and is sent only when it changed; status moves come first, the end last', () => {
  const processing = row({ progress: { low: 0.5 } });
  const a = framesSince(
    config,
    owner,
    processing,
    [move(2, 'awaiting_upload', 'processing')],
    [],
    position('1'),
  );
  assert.deepEqual(
    a.frames.map((f) => [f.type, f.id]),
    [
      ['media.status', '2'],
      ['media.progress', undefined],
    ],
  );
  assert.deepEqual(framesSince(config, owner, processing, [], [], a.position).frames, []);

  const ready = row({ status: 'ready', progress: { low: 1 } });
  const end = framesSince(
    config,
    owner,
    ready,
    [move(3, 'processing', 'ready')],
    [variant('low', 5, 1)],
    a.position,
  );
  assert.deepEqual(
    end.frames.map((f) => [f.type, f.id]),
    [
      ['media.variant.ready', '2.low'],
      ['media.ready', '3.low'],
    ],
  );
  assert.equal(end.ended, true);
});

test('the end says who ended it, on a live stream and on a fresh one alike', () => {
  const cases: [string, string, string, string][] = [
    ['rejected', 'scanner', 'media.rejected', 'malware'],
    ['rejected', 'moderation:sightengine', 'media.rejected', 'moderation'],
    ['rejected', 'gate', 'media.rejected', 'gate'],
    ['deleted', 'alice', 'media.deleted', 'owner'],
    ['deleted', 'sweeper', 'media.deleted', 'expiry'],
    ['deleted', 'moderation:sightengine', 'media.deleted', 'takedown'],
    ['deleted', 'ops-bob', 'media.deleted', 'operator'],
  ];
  for (const [status, actor, type, by] of cases) {
    const ended = row({ status: status as MediaRow['status'], failureCode: 'malware', failureDetail: 'x' });
    const end = move(9, 'processing', status, actor);
    const live = framesSince(config, owner, ended, [end], [], position('8')).frames.at(-1);
    const fresh = openingFrames(config, owner, ended, [], 9, end).frames.at(-1);
    for (const frame of [live, fresh]) {
      assert.equal(frame?.type, type, actor);
      assert.equal((frame?.message.data as { by?: string } | undefined)?.by, by, actor);
      assert.equal(frame?.id, '9', 'the id covers the end: a reconnect gets 204');
    }
  }
});
