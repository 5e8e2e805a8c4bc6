import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  makeH264Clip,
  makeHevcMov,
  makeM4aWithCover,
  makeMp3,
  makeRotatedPhoneClip,
  makeVfrClip,
  makeVp9Webm,
} from '../../worker/video/test-fixtures.ts';
import { probeMedia, summarizeProbe } from './probe.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'probe-test-'));
});
after(() => rm(dir, { recursive: true, force: true }));

describe('probeMedia on real files', () => {
  test('a phone clip: rotation from the display matrix, portrait display size', async () => {
    const probe = await probeMedia(await makeRotatedPhoneClip(dir));
    assert.equal(probe.container, 'mov');
    assert.equal(probe.video?.codec, 'h264');
    assert.equal(probe.video?.rotation, 90);
    assert.deepEqual([probe.video?.width, probe.video?.height], [640, 360]);
    assert.deepEqual([probe.video?.displayWidth, probe.video?.displayHeight], [360, 640]);
    assert.equal(probe.audio?.codec, 'aac');
    assert.ok(probe.durationSeconds && Math.abs(probe.durationSeconds - 2) < 0.1);
    assert.ok(probe.bitrate && probe.video?.bitrate && probe.audio?.bitrate);
  });

  test('HEVC in MOV, VP9 in WebM, no audio', async () => {
    const hevc = await probeMedia(await makeHevcMov(dir));
    assert.equal(hevc.container, 'mov');
    assert.equal(hevc.video?.codec, 'hevc');
    const webm = await probeMedia(await makeVp9Webm(dir));
    assert.equal(webm.container, 'webm');
    assert.deepEqual([webm.video?.codec, webm.audio?.codec], ['vp9', 'opus']);
    const silent = await probeMedia(await makeH264Clip(dir, 'silent.mp4', { audio: false }));
    assert.equal(silent.container, 'mp4');
    assert.equal(silent.audio, undefined);
    assert.equal(silent.video?.frameRate, 25);
    assert.equal(silent.video?.variableFrameRate, false);
  });

  test('variable frame rate is flagged', async () => {
    const probe = await probeMedia(await makeVfrClip(dir));
    assert.equal(probe.video?.variableFrameRate, true);
    assert.equal(probe.video?.baseFrameRate, '30/1');
    assert.ok((probe.video?.frameRate ?? 0) < 25);
  });

  test('audio files: cover art is not mistaken for video', async () => {
    const m4a = await probeMedia(await makeM4aWithCover(dir));
    assert.equal(m4a.container, 'm4a');
    assert.equal(m4a.video, undefined);
    assert.deepEqual(m4a.coverArt, { index: 1, codec: 'mjpeg', width: 300, height: 300 });
    const mp3 = await probeMedia(await makeMp3(dir));
    assert.equal(mp3.container, 'mp3');
    assert.equal(mp3.audio?.bitrate, 128_000);
    assert.equal(mp3.coverArt, undefined);
  });
});

describe('summarizeProbe', () => {
  const stream = { index: 0, codec_type: 'video', codec_name: 'h264', width: 1920, height: 1080 };

  test('display matrix angles are counterclockwise, rotate tags clockwise', () => {
    const matrix = (rotation: number) =>
      summarizeProbe({
        streams: [{ ...stream, side_data_list: [{ side_data_type: 'Display Matrix', rotation }] }],
      }).video?.rotation;
    assert.equal(matrix(-90), 90);
    assert.equal(matrix(90), 270);
    assert.equal(matrix(180), 180);
    assert.equal(matrix(-180), 180);
    const tagged = summarizeProbe({ streams: [{ ...stream, tags: { rotate: '90' } }] }).video;
    assert.equal(tagged?.rotation, 90);
    assert.deepEqual([tagged?.displayWidth, tagged?.displayHeight], [1080, 1920]);
  });

  test('non-square pixels widen the display size', () => {
    const video = summarizeProbe({
      streams: [{ ...stream, width: 720, height: 576, sample_aspect_ratio: '16:15' }],
    }).video;
    assert.deepEqual([video?.displayWidth, video?.displayHeight], [768, 576]);
  });

  test('the first real video stream wins over cover art; streams without size are ignored', () => {
    const probe = summarizeProbe({
      format: { format_name: 'matroska,webm', duration: '12.5', bit_rate: '800000', size: '42' },
      streams: [
        {
          index: 0,
          codec_type: 'video',
          codec_name: 'mjpeg',
          width: 500,
          height: 500,
          disposition: { attached_pic: 1 },
        },
        { index: 1, codec_type: 'video', codec_name: 'h264', width: 0, height: 0 },
        { ...stream, index: 2 },
        { index: 3, codec_type: 'audio', codec_name: 'aac', channels: 6, bit_rate: 'N/A' },
      ],
    });
    assert.equal(probe.video?.index, 2);
    assert.equal(probe.coverArt?.index, 0);
    assert.equal(probe.audio?.bitrate, undefined);
    assert.equal(probe.container, 'matroska');
    assert.deepEqual([probe.durationSeconds, probe.bitrate, probe.sizeBytes], [12.5, 800_000, 42]);
  });
});
