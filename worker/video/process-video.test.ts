import assert from 'node:assert/strict';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FfmpegError, type FfmpegProgress } from '../../platform/media/run-ffmpeg.ts';
import { MediaInputError } from '../ffmpeg/media-input-error.ts';
import type { MediaOutput } from '../ffmpeg/outputs.ts';
import { ffprobeFile } from '../ffmpeg/probe.ts';
import { processVideo, retryVideoRendition, type VideoStep } from './process-video.ts';
import {
  hlsReferencedFiles,
  makeEmpty,
  makeH264Clip,
  makeHevcMov,
  makeMp3,
  makeRotatedPhoneClip,
  makeTruncated,
  makeVfrClip,
  makeVp9Webm,
  smallLadder,
  topLevelBoxes,
} from './test-fixtures.ts';

let dir: string;
let phoneClip: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'process-video-test-'));
  phoneClip = await makeRotatedPhoneClip(dir, { seconds: 8 });
});
after(() => rm(dir, { recursive: true, force: true }));

let outCount = 0;
const freshOutDir = () => join(dir, `out-${++outCount}`);

/** An ffmpeg stand-in that misbehaves only when writing `target`, to fail one step of a real run. */
async function faultyFfmpeg(
  target: string,
  behaviour: 'fail' | 'hang',
): Promise<{ ffmpegPath: string; ffprobePath: string }> {
  const ffmpegPath = join(dir, `ffmpeg-${behaviour}-${target}`);
  // exec, so the SIGKILL meant for ffmpeg reaches the process that holds the pipes.
  const action = behaviour === 'fail' ? 'echo "injected failure" >&2; exit 3' : 'exec sleep 60';
  await writeFile(
    ffmpegPath,
    `#!/bin/sh\nfor a in "$@"; do case "$a" in */${target}.partial) ${action};; esac; done\nexec ffmpeg "$@"\n`,
  );
  await chmod(ffmpegPath, 0o755);
  return { ffmpegPath, ffprobePath: 'ffprobe' };
}

async function assertPlayableMp4(output: MediaOutput, audio: boolean): Promise<void> {
  const probe = await ffprobeFile(output.path);
  assert.equal(probe.video?.codec, 'h264', output.quality);
  assert.equal(probe.audio?.codec, audio ? 'aac' : undefined, output.quality);
  assert.equal(probe.video?.rotation, 0, `${output.quality} keeps no display matrix`);
  assert.deepEqual([probe.video?.width, probe.video?.height], [output.width, output.height]);
  assert.ok((output.width ?? 1) % 2 === 0 && (output.height ?? 1) % 2 === 0);
  const boxes = await topLevelBoxes(output.path);
  assert.ok(boxes.indexOf('moov') < boxes.indexOf('mdat'), `${output.quality} is not faststart: ${boxes}`);
}

describe('processVideo', () => {
  test('a rotated phone clip: poster first, then the lowest rendition; portrait outputs; complete HLS', async () => {
    const outputs: MediaOutput[] = [];
    const progress = new Map<string, FfmpegProgress>();
    const result = await processVideo(
      phoneClip,
      freshOutDir(),
      { ladder: smallLadder },
      { onOutput: (o) => outputs.push(o), onProgress: (quality, p) => progress.set(quality, p) },
    );
    assert.deepEqual(result.failures, []);
    assert.deepEqual(
      outputs.map((o) => o.quality),
      ['poster', 'low', 'thumbnail-1', 'thumbnail-2', 'thumbnail-3', 'medium', 'high', 'hls'],
    );
    const byQuality = new Map(outputs.map((o) => [o.quality, o]));
    for (const quality of ['low', 'medium', 'high']) {
      const output = byQuality.get(quality);
      assert.ok(output);
      await assertPlayableMp4(output, true);
      assert.ok((output.height ?? 0) > (output.width ?? 0), `${quality} is portrait`);
      assert.equal(progress.get(quality)?.fraction, 1);
    }
    assert.deepEqual(
      ['low', 'medium', 'high'].map((q) => [byQuality.get(q)?.width, byQuality.get(q)?.height]),
      [
        [120, 214],
        [180, 320],
        [240, 426],
      ],
    );

    const poster = await ffprobeFile(byQuality.get('poster')?.path ?? '');
    assert.deepEqual([poster.video?.codec, poster.video?.width, poster.video?.height], ['webp', 240, 426]);

    const hls = byQuality.get('hls');
    assert.ok(hls?.files);
    const master = await readFile(hls.path, 'utf8');
    assert.equal(master.match(/#EXT-X-STREAM-INF/g)?.length, 3);
    assert.match(master, /RESOLUTION=120x214/);
    assert.match(master, /CODECS="avc1\.64[0-9a-f]{4},mp4a\.40\.2"/);
    const referenced = await hlsReferencedFiles(hls.path);
    const packaged = new Set(hls.files.map((file) => join(dir, `out-${outCount}`, 'hls', file.name)));
    for (const file of referenced)
      assert.ok(packaged.has(file), `${file} is referenced but not in the package`);
    assert.equal(packaged.size, referenced.length + 1, 'the package is the master plus what it references');
    const low = await readFile(join(dir, `out-${outCount}`, 'hls', 'low', 'index.m3u8'), 'utf8');
    assert.deepEqual(
      [...low.matchAll(/#EXTINF:([\d.]+)/g)].map((m) => Number(m[1])),
      [6, 2],
      'segments are cut every 6 s',
    );
  });

  test('HEVC/MOV, VP9/WebM, VFR and silent inputs become constant-rate H.264 (+AAC)', async () => {
    const lowOnly = { ladder: smallLadder.slice(0, 1) };
    const cases: [string, string, boolean][] = [
      ['hevc', await makeHevcMov(dir), true],
      ['vp9', await makeVp9Webm(dir), true],
      ['vfr', await makeVfrClip(dir), false],
      ['silent', await makeH264Clip(dir, 'silent.mp4', { audio: false }), false],
    ];
    for (const [name, input, audio] of cases) {
      const result = await processVideo(input, freshOutDir(), lowOnly);
      assert.deepEqual(result.failures, [], name);
      const low = result.outputs.find((o) => o.quality === 'low');
      assert.ok(low, name);
      await assertPlayableMp4(low, audio);
      assert.equal((await ffprobeFile(low.path)).video?.variableFrameRate, false, `${name} is constant rate`);
      const master = await readFile(result.outputs.find((o) => o.quality === 'hls')?.path ?? '', 'utf8');
      assert.match(
        master,
        audio ? /CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"/ : /CODECS="avc1\.[0-9a-f]{6}"/,
        name,
      );
    }
  });

  test('a web-ready MP4 with moov at the end is copied into a faststart MP4, not re-encoded', async () => {
    const input = await makeH264Clip(dir, 'ready.mp4', { width: 320, height: 180 });
    const ladder = [{ quality: 'low' as const, height: 180, videoBitrate: 2_000_000, audioBitrate: 96_000 }];
    const result = await processVideo(input, freshOutDir(), { ladder });
    assert.equal(result.plan.renditions[0]?.mode, 'remux');
    const low = result.outputs.find((o) => o.quality === 'low');
    assert.ok(low);
    await assertPlayableMp4(low, true);
    // ultrafast encodes Constrained Baseline; our encodes are High, so this proves a copy.
    assert.equal((await ffprobeFile(low.path)).video?.profile, 'Constrained Baseline');
  });

  test('a failed rendition costs only itself, and can be retried alone', async () => {
    const outDir = freshOutDir();
    const failures: [VideoStep, unknown][] = [];
    const faulty = await faultyFfmpeg('medium.mp4', 'fail');
    const result = await processVideo(
      phoneClip,
      outDir,
      { ladder: smallLadder, ...faulty },
      { onRenditionFailed: (step, error) => failures.push([step, error]) },
    );
    assert.deepEqual(
      failures.map(([step]) => step),
      ['medium'],
    );
    const error = failures[0]?.[1];
    assert.ok(
      error instanceof FfmpegError && error.exitCode === 3 && /injected failure/.test(error.stderrTail),
    );
    assert.deepEqual(
      result.outputs.map((o) => o.quality),
      ['poster', 'low', 'thumbnail-1', 'thumbnail-2', 'thumbnail-3', 'high', 'hls'],
    );
    const master = await readFile(join(outDir, 'hls', 'master.m3u8'), 'utf8');
    assert.deepEqual(
      [...master.matchAll(/^(\w+)\/index\.m3u8$/gm)].map((m) => m[1]),
      ['low', 'high'],
    );
    assert.ok(!(await readdir(outDir)).some((name) => name.startsWith('medium')));

    const retried = await retryVideoRendition(phoneClip, outDir, 'medium', { ladder: smallLadder });
    await assertPlayableMp4(retried, true);
  });

  test('a rendition that times out fails the larger encodes without running them', async () => {
    const outDir = freshOutDir();
    const started = performance.now();
    const outputs: string[] = [];
    await assert.rejects(
      processVideo(
        phoneClip,
        outDir,
        { ladder: smallLadder, timeoutMs: 3000, ...(await faultyFfmpeg('low.mp4', 'hang')) },
        { onOutput: (o) => outputs.push(o.quality) },
      ),
      (error: unknown) => {
        assert.ok(error instanceof MediaInputError);
        assert.equal(error.code, 'media_timeout');
        return true;
      },
    );
    assert.ok(performance.now() - started < 8500, 'one timeout, not three');
    assert.deepEqual(outputs, ['poster', 'thumbnail-1', 'thumbnail-2', 'thumbnail-3']);
    assert.deepEqual(
      (await readdir(outDir)).filter((name) => name.endsWith('.partial')),
      [],
    );
  });

  test('an abort stops the run at once and keeps what was finished', async () => {
    const outDir = freshOutDir();
    const controller = new AbortController();
    await assert.rejects(
      processVideo(
        phoneClip,
        outDir,
        { ladder: smallLadder, signal: controller.signal },
        { onProgress: (quality) => quality === 'medium' && controller.abort() },
      ),
      (error: unknown) => error instanceof FfmpegError && error.reason === 'aborted',
    );
    const left = await readdir(outDir);
    assert.ok(left.includes('low.mp4') && left.includes('poster.webp'));
    assert.ok(!left.some((name) => name.startsWith('medium') || name.startsWith('high')), String(left));
  });

  test('truncated, empty and video-less uploads are rejected with a code', async () => {
    const cases: [string, string][] = [
      [await makeTruncated(await makeH264Clip(dir, 'cut.mp4')), 'media_undecodable'],
      [await makeEmpty(dir), 'media_empty'],
      [await makeMp3(dir, 2), 'media_undecodable'],
    ];
    for (const [input, code] of cases) {
      await assert.rejects(processVideo(input, freshOutDir()), (error: unknown) => {
        assert.ok(error instanceof MediaInputError, String(error));
        assert.equal(error.code, code);
        return true;
      });
    }
  });
});
