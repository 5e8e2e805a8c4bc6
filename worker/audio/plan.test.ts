import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AudioStreamInfo, MediaProbe } from '../../platform/media/probe.ts';
import { MediaInputError } from '../ffmpeg/media-input-error.ts';
import { planAudio } from './plan.ts';

function probe(audio: Partial<AudioStreamInfo>, rest: Partial<MediaProbe> = {}): MediaProbe {
  return {
    container: 'mp3',
    sizeBytes: 1,
    streams: [],
    durationSeconds: 180,
    audio: { index: 0, codec: 'mp3', ...audio },
    ...rest,
  };
}
const rungs = (p: MediaProbe) => planAudio(p).renditions.map((r) => r.bitrate);

test('rungs well above a lossy source are skipped; the lowest always stays', () => {
  assert.deepEqual(rungs(probe({ bitrate: 320_000 })), [64_000, 128_000, 256_000]);
  assert.deepEqual(rungs(probe({ bitrate: 128_000 })), [64_000, 128_000]);
  assert.deepEqual(rungs(probe({ bitrate: 96_000 })), [64_000]);
  assert.deepEqual(rungs(probe({ bitrate: 32_000 })), [64_000]);
});

test('the container bitrate stands in for a missing stream bitrate; unknown keeps everything', () => {
  assert.deepEqual(rungs(probe({}, { bitrate: 100_000 })), [64_000]);
  assert.deepEqual(rungs(probe({})), [64_000, 128_000, 256_000]);
});

test('lossless sources get every rung whatever their nominal bitrate', () => {
  assert.deepEqual(
    rungs(probe({ codec: 'flac', bitrate: 90_000, lossless: true })),
    [64_000, 128_000, 256_000],
  );
  assert.deepEqual(
    rungs(probe({ codec: 'pcm_s16le', bitrate: 90_000, lossless: true })),
    [64_000, 128_000, 256_000],
  );
});

test('AAC-LC in a faststart M4A, no metadata, surround downmixed, hi-res resampled', () => {
  const [low] = planAudio(probe({ bitrate: 320_000, channels: 6 })).renditions;
  const args = low?.outputArgs ?? [];
  assert.equal(args[args.indexOf('-c:a') + 1], 'aac');
  assert.equal(args[args.indexOf('-b:a') + 1], '64000');
  assert.equal(args[args.indexOf('-ac') + 1], '2');
  assert.equal(args[args.indexOf('-movflags') + 1], '+faststart');
  assert.equal(args[args.indexOf('-map_metadata') + 1], '-1');
  const plain = planAudio(probe({ channels: 2, sampleRate: 44_100 })).renditions[0]?.outputArgs ?? [];
  assert.ok(!plain.includes('-ac') && !plain.includes('-ar'));
  const hiRes = planAudio(probe({ codec: 'flac', sampleRate: 96_000 })).renditions[0]?.outputArgs ?? [];
  assert.equal(hiRes[hiRes.indexOf('-ar') + 1], '48000');
});

test('cover art becomes a poster plan, never upscaled and capped', () => {
  const cover = (width: number, height: number) =>
    planAudio(probe({}, { coverArt: { index: 1, codec: 'mjpeg', width, height } })).coverArt;
  assert.deepEqual(cover(300, 300), { stream: '0:1', width: 300, height: 300 });
  assert.deepEqual(cover(3000, 3000), { stream: '0:1', width: 1080, height: 1080 });
  assert.equal(planAudio(probe({})).coverArt, undefined);
});

test('a file without audio cannot be planned as audio', () => {
  assert.throws(
    () => planAudio({ container: 'mp4', sizeBytes: 1, streams: [] }),
    (error: unknown) => error instanceof MediaInputError && error.code === 'media_undecodable',
  );
});
