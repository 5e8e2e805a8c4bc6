import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { probeMedia } from '../../../platform/media/probe.ts';
import { serveFile } from '../chunks/test-chunks.ts';
import { planVideo } from '../plan.ts';
import { makeH264Clip, smallLadder } from '../test-fixtures.ts';
import { planSpans, sampleKeyframesEarly } from './plan-spans.ts';

test('an encoded-only MP4 is cut at its keyframes from a 2 s first chunk on, whether sampled early on the gate probe or after', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'plan-spans-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // 24 s, a keyframe every 5 s, never at 2 s: the first cut is on the grid, the others at keyframes
  // (each the nearest to the next 6 s step that the seeks found).
  const path = await makeH264Clip(dir, 'gop5.mp4', {
    width: 320,
    height: 180,
    seconds: 24,
    fps: 30,
    extra: ['-g', '150', '-keyint_min', '150'],
  });
  const served = await serveFile(path);
  t.after(served.close);
  const probe = await probeMedia(served.url);
  const plan = planVideo(probe, { ladder: smallLadder });
  assert.ok(plan.renditions.every((rendition) => rendition.mode === 'transcode'));
  const cuts = (spans: { endSeconds: number }[]) => spans.map((span) => span.endSeconds);
  const after = await planSpans(served.url, probe, plan, 6, {});
  assert.deepEqual(cuts(after), [2, 10, 15, 24]);
  const early = sampleKeyframesEarly(served.url, { container: 'mp4', durationSeconds: 24 }, 6, {});
  assert.ok(early);
  assert.deepEqual(cuts(await planSpans(served.url, probe, plan, 6, {}, early)), cuts(after));
  // Nothing to start from: no length, or a container without an index to seek by.
  assert.equal(sampleKeyframesEarly(served.url, { container: 'mp4' }, 6, {}), undefined);
  assert.equal(
    sampleKeyframesEarly(served.url, { container: 'webm', durationSeconds: 24 }, 6, {}),
    undefined,
  );
});
