import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KeyframeSample } from '../../platform/media/keyframes.ts';
import type { MediaProbe, VideoStreamInfo } from '../../platform/media/probe.ts';
import { MediaInputError } from '../ffmpeg/media-input-error.ts';
import { audioArgs, outputFrameRate, planVideo, posterTime, type RungSpec, thumbnailTimes } from './plan.ts';

function videoStream(overrides: Partial<VideoStreamInfo> = {}): VideoStreamInfo {
  const width = overrides.width ?? 1920;
  const height = overrides.height ?? 1080;
  return {
    index: 0,
    codec: 'h264',
    profile: 'High',
    pixelFormat: 'yuv420p',
    width,
    height,
    rotation: 0,
    displayWidth: width,
    displayHeight: height,
    frameRate: 30,
    baseFrameRate: '30/1',
    variableFrameRate: false,
    bitrate: 17_000_000,
    keyframes: keyframesEvery(2),
    ...overrides,
  };
}

/** A whole 60 s stream sampled, keyframes every `seconds`. */
function keyframesEvery(seconds: number, partial = false): KeyframeSample {
  const times = Array.from({ length: Math.ceil(60 / seconds) }, (_, i) => i * seconds);
  return { times, maxIntervalSeconds: seconds, sampledSeconds: partial ? 30 : 59.967, partial };
}

function probe(video: Partial<VideoStreamInfo> = {}, rest: Partial<MediaProbe> = {}): MediaProbe {
  return {
    container: 'mp4',
    durationSeconds: 60,
    sizeBytes: 1,
    streams: [],
    video: videoStream(video),
    audio: { index: 1, codec: 'aac', channels: 2, bitrate: 128_000 },
    ...rest,
  };
}

const sizes = (plan: ReturnType<typeof planVideo>) =>
  plan.renditions.map((r) => [r.quality, r.width, r.height]);
const arg = (args: string[], flag: string) => args[args.indexOf(flag) + 1];

describe('planVideo ladder', () => {
  test('a 1080p phone file gets the whole ladder, all transcoded (its bitrate is far above "high")', () => {
    const plan = planVideo(probe());
    assert.deepEqual(sizes(plan), [
      ['low', 640, 360],
      ['480p', 854, 480],
      ['medium', 1280, 720],
      ['high', 1920, 1080],
    ]);
    assert.ok(plan.renditions.every((r) => r.mode === 'transcode'));
    assert.deepEqual(plan.poster, { atSeconds: 1, width: 1920, height: 1080 });
  });

  test('a rotated phone clip plans portrait outputs', () => {
    const plan = planVideo(probe({ rotation: 90, displayWidth: 1080, displayHeight: 1920 }));
    assert.deepEqual(sizes(plan), [
      ['low', 360, 640],
      ['480p', 480, 854],
      ['medium', 720, 1280],
      ['high', 1080, 1920],
    ]);
    assert.deepEqual([plan.poster.width, plan.poster.height], [1080, 1920]);
    assert.deepEqual([plan.thumbnails.width, plan.thumbnails.height], [180, 320]);
    // No transpose of our own: ffmpeg's autorotation is the only one, so the frames turn once.
    assert.ok(plan.renditions.every((r) => !r.outputArgs.join(' ').includes('transpose')));
  });

  test('never upscales: rungs above the short side are skipped', () => {
    assert.deepEqual(sizes(planVideo(probe({ width: 1280, height: 720 }))), [
      ['low', 640, 360],
      ['480p', 854, 480],
      ['medium', 1280, 720],
    ]);
    assert.deepEqual(sizes(planVideo(probe({ width: 854, height: 480 }))), [
      ['low', 640, 360],
      ['480p', 854, 480],
    ]);
    assert.deepEqual(sizes(planVideo(probe({ width: 800, height: 450 }))), [['low', 640, 360]]);
  });

  test('a source below the lowest rung keeps one rendition at its own size, made even', () => {
    assert.deepEqual(sizes(planVideo(probe({ width: 320, height: 240 }))), [['low', 320, 240]]);
    const odd = planVideo(probe({ width: 321, height: 181 }));
    assert.deepEqual(sizes(odd), [['low', 320, 180]]);
    assert.deepEqual([odd.poster.width, odd.poster.height], [320, 180]);
  });

  test('dimensions are always even', () => {
    for (const [width, height] of [
      [1001, 563],
      [999, 1777],
      [727, 409],
    ] as const) {
      const plan = planVideo(probe({ width, height }));
      for (const r of [...plan.renditions, plan.poster, plan.thumbnails]) {
        assert.ok(r.width % 2 === 0 && r.height % 2 === 0, `${width}x${height} -> ${r.width}x${r.height}`);
      }
    }
    assert.deepEqual(sizes(planVideo(probe({ width: 1001, height: 563 }))), [
      ['low', 640, 360],
      ['480p', 854, 480],
    ]);
  });

  test('heights and bitrates are configurable', () => {
    const ladder = [
      { quality: 'low' as const, height: 144, videoBitrate: 150_000, audioBitrate: 48_000 },
      { quality: 'high' as const, height: 540, videoBitrate: 1_500_000, audioBitrate: 96_000 },
    ];
    const plan = planVideo(probe(), { ladder, preset: 'medium' });
    assert.deepEqual(sizes(plan), [
      ['low', 256, 144],
      ['high', 960, 540],
    ]);
    const args = plan.renditions[1]?.outputArgs ?? [];
    assert.equal(arg(args, '-b:v'), '1500000');
    assert.equal(arg(args, '-b:a'), '96000');
    assert.equal(arg(args, '-preset'), 'medium');
  });
});

describe('planVideo remux or transcode', () => {
  const webReady = { bitrate: 4_000_000, profile: 'Main' };

  test('H.264/AAC in MP4 at a rung’s size and bitrate is copied into a faststart MP4', () => {
    const plan = planVideo(probe(webReady));
    assert.deepEqual(
      plan.renditions.map((r) => r.mode),
      ['transcode', 'transcode', 'transcode', 'remux'],
    );
    const args = plan.renditions[3]?.outputArgs.join(' ');
    assert.match(args ?? '', /-c copy/);
    assert.match(args ?? '', /-movflags \+faststart/);
    assert.doesNotMatch(args ?? '', /-vf/);
  });

  test('also in MOV and without audio', () => {
    const plan = planVideo(probe(webReady, { container: 'mov', audio: undefined }));
    assert.equal(plan.renditions.at(-1)?.mode, 'remux');
  });

  test('anything else is transcoded', () => {
    const cases: [string, MediaProbe][] = [
      ['HEVC', probe({ ...webReady, codec: 'hevc' })],
      ['WebM', probe(webReady, { container: 'webm' })],
      ['Opus audio', probe(webReady, { audio: { index: 1, codec: 'opus' } })],
      ['10-bit', probe({ ...webReady, pixelFormat: 'yuv420p10le' })],
      ['variable frame rate', probe({ ...webReady, variableFrameRate: true })],
      ['far above the rung bitrate', probe({ bitrate: 12_000_000 })],
      ['unknown bitrate', probe({ bitrate: undefined }, { bitrate: undefined })],
      ['120 fps', probe({ ...webReady, frameRate: 120, baseFrameRate: '120/1' })],
      ['non-square pixels', probe({ ...webReady, width: 1440, displayWidth: 1920 })],
      [
        'keyframes every 8 s: its segments would not cut with the others',
        probe({ ...webReady, keyframes: keyframesEvery(8) }),
      ],
      ['keyframes every 5 s miss the 6 s grid', probe({ ...webReady, keyframes: keyframesEvery(5) })],
      ['keyframes not sampled', probe({ ...webReady, keyframes: undefined })],
    ];
    for (const [name, input] of cases) {
      assert.ok(
        planVideo(input).renditions.every((r) => r.mode === 'transcode'),
        `${name} should be transcoded`,
      );
    }
  });

  test('the bitrate check falls back to the container bitrate minus audio', () => {
    const plan = planVideo(probe({ bitrate: undefined }, { bitrate: 5_128_000 }));
    assert.equal(plan.renditions.at(-1)?.mode, 'remux');
  });
});

describe('planVideo copies only what cuts on the 6 s grid', () => {
  const webReady = { bitrate: 4_000_000, profile: 'Main' };

  test('keyframes every 1, 2, 3 or 6 s are copied; a periodic partial sample is extrapolated', () => {
    for (const seconds of [1, 2, 3, 6])
      assert.equal(
        planVideo(probe({ ...webReady, keyframes: keyframesEvery(seconds) })).renditions.at(-1)?.mode,
        'remux',
      );
    assert.equal(
      planVideo(probe({ ...webReady, keyframes: keyframesEvery(2, true) })).renditions.at(-1)?.mode,
      'remux',
    );
  });
});

describe('audio of a rung', () => {
  const rung = (audioBitrate: number): RungSpec => ({
    quality: 'high',
    height: 1080,
    videoBitrate: 5e6,
    audioBitrate,
  });

  test('never above a lossy source: a 128 kb/s AAC track is copied for the 192 kb/s rung', () => {
    const aac = { index: 1, codec: 'aac', channels: 2, sampleRate: 48_000, bitrate: 128_000 };
    assert.deepEqual(audioArgs(aac, rung(192_000), true), ['-map', '0:a:0', '-c:a', 'copy']);
    const mp3 = { index: 1, codec: 'mp3', channels: 2, bitrate: 112_000 };
    assert.equal(arg(audioArgs(mp3, rung(192_000), true), '-b:a'), '112000');
    assert.equal(arg(audioArgs(mp3, rung(64_000), false), '-b:a'), '64000');
  });

  test('320 kb/s on the top rung when the source is worth it: lossless or at least 256 kb/s', () => {
    const flac = { index: 1, codec: 'flac', channels: 2, lossless: true, bitrate: 900_000 };
    assert.equal(arg(audioArgs(flac, rung(192_000), true), '-b:a'), '320000');
    assert.equal(arg(audioArgs(flac, rung(128_000), false), '-b:a'), '128000');
    const rich = { index: 1, codec: 'aac', channels: 2, bitrate: 256_000 };
    assert.equal(
      arg(audioArgs(rich, rung(192_000), true), '-c:a'),
      'copy',
      'capped at the source: kept as is',
    );
    const richer = { index: 1, codec: 'opus', channels: 2, bitrate: 384_000 };
    assert.equal(arg(audioArgs(richer, rung(192_000), true), '-b:a'), '320000');
  });

  test('an unknown source bitrate keeps the rung bitrate', () => {
    const opus = { index: 1, codec: 'opus', channels: 2 };
    assert.equal(arg(audioArgs(opus, rung(192_000), true), '-b:a'), '192000');
  });
});

describe('transcode arguments', () => {
  test('H.264 + AAC, faststart, 2 s keyframes for 6 s HLS segments, constant frame rate, no metadata', () => {
    const args = planVideo(probe()).renditions[0]?.outputArgs ?? [];
    const text = args.join(' ');
    assert.equal(arg(args, '-c:v'), 'libx264');
    assert.equal(arg(args, '-preset'), 'veryfast');
    assert.equal(arg(args, '-pix_fmt'), 'yuv420p');
    assert.equal(arg(args, '-c:a'), 'aac');
    assert.equal(arg(args, '-b:v'), '800000');
    assert.equal(arg(args, '-b:a'), '64000');
    assert.equal(arg(args, '-sc_threshold'), '0');
    assert.equal(arg(args, '-movflags'), '+faststart');
    assert.equal(arg(args, '-force_key_frames'), 'expr:gte(t,n_forced*2)');
    assert.equal(arg(args, '-fps_mode'), 'cfr');
    assert.equal(arg(args, '-r'), '30/1');
    assert.equal(arg(args, '-vf'), 'scale=640:360,setsar=1');
    assert.equal(arg(args, '-map_metadata'), '-1');
    assert.match(text, /-map 0:V:0 .*-map 0:a:0/);
    assert.equal(args.at(-1), 'mp4');
  });

  test('no audio stream means -an; surround is downmixed to stereo', () => {
    const silent = planVideo(probe({}, { audio: undefined })).renditions[0]?.outputArgs ?? [];
    assert.ok(silent.includes('-an'));
    assert.ok(!silent.includes('-c:a'));
    const surround = planVideo(probe({}, { audio: { index: 1, codec: 'ac3', channels: 6 } })).renditions[0];
    assert.equal(arg(surround?.outputArgs ?? [], '-ac'), '2');
  });

  test('frame rate: exact base rate when plausible, else the rounded average, capped', () => {
    assert.equal(outputFrameRate(videoStream({ baseFrameRate: '30000/1001' }), 60), '30000/1001');
    assert.equal(outputFrameRate(videoStream({ baseFrameRate: '90000/1', frameRate: 29.7 }), 60), '30');
    assert.equal(outputFrameRate(videoStream({ baseFrameRate: '240/1', frameRate: 240 }), 60), '60');
    assert.equal(outputFrameRate(videoStream({ baseFrameRate: undefined, frameRate: undefined }), 60), '30');
  });
});

describe('stills', () => {
  test('poster at 1 s, or 10% into clips under 10 s', () => {
    assert.equal(posterTime(60), 1);
    assert.equal(posterTime(10), 1);
    assert.equal(posterTime(5), 0.5);
    assert.equal(posterTime(1.2), 0.12);
    assert.equal(posterTime(undefined), 0);
  });

  test('thumbnails evenly spaced inside the first and last 5%, 3 to 5 of them', () => {
    assert.deepEqual(thumbnailTimes(100, 3), [5, 50, 95]);
    assert.deepEqual(thumbnailTimes(100, 5), [5, 27.5, 50, 72.5, 95]);
    assert.equal(thumbnailTimes(100, 9).length, 5);
    assert.equal(thumbnailTimes(100, 1).length, 3);
    assert.deepEqual(thumbnailTimes(undefined, 3), []);
  });
});

test('a file without video cannot be planned as video', () => {
  assert.throws(
    () => planVideo({ container: 'mp3', sizeBytes: 1, streams: [], audio: { index: 0, codec: 'mp3' } }),
    (error: unknown) => error instanceof MediaInputError && error.code === 'media_undecodable',
  );
});

test('stills are placed within the video track when audio runs longer', () => {
  const plan = planVideo(probe({ durationSeconds: 20 }, { durationSeconds: 100 }));
  assert.deepEqual(plan.thumbnails.atSeconds, [1, 10, 19]);
  assert.equal(plan.durationSeconds, 100);
});
