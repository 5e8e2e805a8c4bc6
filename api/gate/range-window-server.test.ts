import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type EmbeddedS3, startEmbeddedS3 } from '../../deploy/s3/embedded/server.ts';
import { loadConfig } from '../../platform/config.ts';
import { probeMedia } from '../../platform/media/probe.ts';
import { runFfmpeg } from '../../platform/media/run-ffmpeg.ts';
import type { ObjectStorage } from '../../platform/storage/object-storage.ts';
import { createS3Storage } from '../../platform/storage/s3-storage.ts';
import { withRangeWindows } from './range-window-server.ts';

/**
 * The gate probes an upload through bounded windows of storage. Formats whose demuxer reads to the file's
 * end (Ogg and MPEG-TS for their duration) must end there, not retry the end until the probe times out,
 * and reads that span many windows (a keyframe sample, an index at the end) must go on past each window.
 */
let dir: string;
let s3: EmbeddedS3;
let storage: ObjectStorage;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'range-windows-'));
  const secret = randomBytes(16).toString('hex');
  s3 = await startEmbeddedS3({ dataDir: join(dir, 's3'), accessKeyId: 'rw', secretAccessKey: secret });
  const env = { S3_ENDPOINT: s3.endpoint, S3_ACCESS_KEY_ID: 'rw', S3_SECRET_ACCESS_KEY: secret };
  storage = createS3Storage(loadConfig({ ...env, S3_BUCKET: 'range-windows' }).s3);
  await storage.ensureBucket();
});
after(async () => {
  await s3?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Encodes lavfi sources with `args` into `name`, stores it, and probes it through range windows. */
async function probeStored(name: string, args: string[], keyframeWindowSeconds?: number) {
  const path = join(dir, name);
  await runFfmpeg(['-f', 'lavfi', '-i', 'sine=f=440:d=8', ...args, path], { timeoutMs: 60_000 });
  const bytes = await readFile(path);
  await storage.put(name, bytes, 'application/octet-stream', bytes.length);
  return withRangeWindows(storage, name, bytes.length, (url) =>
    probeMedia(url, { timeoutMs: 10_000, keyframeWindowSeconds, windowed: true }),
  );
}

const video = ['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30:d=8', '-c:v', 'libx264', '-g', '60'];

test('Ogg Opus and Ogg Vorbis audio probe to their duration', async () => {
  const opus = await probeStored('a.opus.ogg', ['-c:a', 'libopus', '-f', 'ogg']);
  assert.equal(opus.audio?.codec, 'opus');
  assert.ok(Math.abs((opus.durationSeconds ?? 0) - 8) < 0.05, `opus duration ${opus.durationSeconds}`);
  const vorbis = await probeStored('a.vorbis.ogg', ['-c:a', 'libvorbis', '-f', 'ogg']);
  assert.equal(vorbis.audio?.codec, 'vorbis');
  assert.ok(Math.abs((vorbis.durationSeconds ?? 0) - 8) < 0.05, `vorbis duration ${vorbis.durationSeconds}`);
});

test('an MPEG-TS video and an MP4 with its index at the end are sampled over all their windows', async () => {
  for (const [name, container] of [
    ['v.ts', ['-f', 'mpegts']],
    ['v.mp4', ['-f', 'mp4']],
  ] as const) {
    const probe = await probeStored(name, [...video, '-b:v', '2M', '-c:a', 'aac', ...container], 8);
    const keyframes = probe.video?.keyframes;
    // 2 Mb/s over 8 s is 2 MB: eight 256 kB windows. A sample that stopped at a window's end misses keyframes.
    assert.deepEqual(
      keyframes?.times.map((t) => Math.round(t)),
      [0, 2, 4, 6],
      `${name}: ${JSON.stringify(keyframes)}`,
    );
    assert.ok((keyframes?.sampledSeconds ?? 0) > 7.9, `${name} sampled ${keyframes?.sampledSeconds} s`);
  }
});
