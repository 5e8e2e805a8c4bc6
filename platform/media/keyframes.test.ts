import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keyframeSample, keyframesOnGrid } from './keyframes.ts';

/** ffprobe's `packet,pts_time,flags` lines for `seconds` of video at `fps`, a keyframe every `gop` frames. */
function packets(seconds: number, fps: number, gop: number, start = 0): string {
  const count = Math.round(seconds * fps);
  return Array.from(
    { length: count },
    (_, n) => `packet,${(start + n / fps).toFixed(6)},${n % gop === 0 ? 'K' : '_'}__`,
  ).join('\n');
}

test('the sample: keyframe times from the first packet, the longest gap, whether the window cut it short', () => {
  const sample = keyframeSample(packets(20, 25, 200, 1.5), 30);
  assert.deepEqual(sample?.times, [0, 8, 16]);
  assert.equal(sample?.maxIntervalSeconds, 8);
  assert.equal(sample?.partial, false);
  assert.equal(keyframeSample(packets(30.04, 25, 50), 30)?.partial, true);
  assert.equal(keyframeSample('', 30), undefined);
});

test('the sample counts from the file’s start: a keyframe an edit list hides or a video starting late is not at 0', () => {
  // Cut at 3.3 s from a source with 2 s GOPs by stream copy: its first GOP starts 1.3 s before what is shown.
  const midGop = keyframeSample(`${packets(20, 30, 60, -1.3)}\nformat,0.000000`, 30);
  assert.deepEqual(midGop?.times.slice(0, 3), [0.7, 2.7, 4.7]);
  const late = keyframeSample(`${packets(20, 30, 60, 0.5)}\nformat,0.000000`, 30);
  assert.deepEqual(late?.times.slice(0, 2), [0.5, 2.5]);
  const transportStream = keyframeSample(`${packets(20, 30, 60, 1.4)}\nformat,1.400000`, 30);
  assert.deepEqual(transportStream?.times.slice(0, 2), [0, 2]);
  for (const sample of [midGop, late]) {
    assert.ok(sample);
    assert.equal(
      keyframesOnGrid(sample, { gridSeconds: 6, frameSeconds: 1 / 30, durationSeconds: 20 }),
      false,
    );
  }
});

test('on the 6 s grid: 2 s GOPs are, 8 s and 5 s are not; a 29.97 fps 30-frame GOP drifts off after 30 s', () => {
  const grid = (csv: string, durationSeconds: number, fps: number) => {
    const sample = keyframeSample(csv, 30);
    assert.ok(sample);
    return keyframesOnGrid(sample, { gridSeconds: 6, frameSeconds: 1 / fps, durationSeconds });
  };
  assert.equal(grid(packets(20, 25, 50), 20, 25), true);
  assert.equal(grid(packets(20, 25, 200), 20, 25), false);
  assert.equal(grid(packets(20, 25, 125), 20, 25), false);
  assert.equal(grid(packets(4, 25, 250), 4, 25), true, 'too short to reach the first cut');
  const ntsc = packets(30.1, 30000 / 1001, 30);
  assert.equal(grid(ntsc, 30, 30000 / 1001), true);
  assert.equal(grid(ntsc, 120, 30000 / 1001), false, 'extrapolated past the sample');
  assert.equal(grid(packets(30.04, 25, 50), 600, 25), true, 'exact 2 s GOPs hold for ten minutes');
});
