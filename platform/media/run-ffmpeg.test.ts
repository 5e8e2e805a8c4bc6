import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FfmpegError, type FfmpegProgress, ffprobePathFor, runFfmpeg, runProcess } from './run-ffmpeg.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'run-ffmpeg-test-'));
});
after(() => rm(dir, { recursive: true, force: true }));

// A lavfi job long enough that only a kill can end it within the test.
const endless = ['-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=25:duration=3600', '-f', 'null', '-'];

test('progress is parsed from -progress output and reaches fraction 1 with a speed', async () => {
  const seen: FfmpegProgress[] = [];
  await runFfmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=25:duration=3', '-f', 'null', '-'], {
    durationSeconds: 3,
    onProgress: (progress) => seen.push(progress),
  });
  const last = seen.at(-1);
  assert.equal(last?.fraction, 1);
  assert.ok(Math.abs((last?.outTimeSeconds ?? 0) - 3) < 0.1, `out time ${last?.outTimeSeconds}`);
  assert.ok((last?.speed ?? 0) > 0);
  assert.ok(seen.every((p) => p.fraction !== undefined && p.fraction >= 0 && p.fraction <= 1));
});

test('without a duration, progress carries out time but no fraction', async () => {
  const seen: FfmpegProgress[] = [];
  await runFfmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=160x90:duration=1', '-f', 'null', '-'], {
    onProgress: (progress) => seen.push(progress),
  });
  assert.ok(seen.length > 0);
  assert.ok(seen.every((p) => p.fraction === undefined));
});

test('the timeout SIGKILLs ffmpeg', async () => {
  const started = performance.now();
  await assert.rejects(runFfmpeg(endless, { timeoutMs: 300 }), (error: unknown) => {
    assert.ok(error instanceof FfmpegError);
    assert.equal(error.reason, 'timeout');
    assert.match(error.message, /timed out/);
    return true;
  });
  assert.ok(performance.now() - started < 3000);
});

test('an abort signal kills ffmpeg at once', async () => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 200);
  await assert.rejects(runFfmpeg(endless, { signal: controller.signal }), (error: unknown) => {
    assert.ok(error instanceof FfmpegError);
    assert.equal(error.reason, 'aborted');
    return true;
  });
  await assert.rejects(runFfmpeg(endless, { signal: AbortSignal.abort() }), /aborted/);
});

test('a failing run reports the exit code and the tail of stderr', async () => {
  await assert.rejects(runFfmpeg(['-i', join(dir, 'missing.mp4'), '-f', 'null', '-']), (error: unknown) => {
    assert.ok(error instanceof FfmpegError);
    assert.equal(error.reason, 'exit');
    assert.ok(error.exitCode !== null && error.exitCode !== 0);
    assert.match(error.stderrTail, /No such file or directory/);
    assert.match(error.message, /^ffmpeg exited with code \d+: missing\.mp4: No such file or directory$/);
    assert.ok(!error.stderrTail.includes(dir), 'the temp directory is not in the detail');
    return true;
  });
});

test('a failure reading a URL names no address: the detail reaches owners and webhooks', async () => {
  const server = createServer((_request, response) => response.end(Buffer.alloc(4096, 7)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}/raw/upload?X-Amz-Signature=abc123`;
  try {
    await assert.rejects(runFfmpeg(['-i', url, '-f', 'null', '-']), (error: unknown) => {
      assert.ok(error instanceof FfmpegError);
      assert.match(error.message, /input: Invalid data found when processing input/);
      for (const secret of [String(port), '127.0.0.1', 'X-Amz-Signature', 'abc123'])
        assert.ok(!`${error.message}\n${error.stderrTail}`.includes(secret), `${secret} leaked`);
      return true;
    });
  } finally {
    server.close();
  }
});

test('a missing binary is a spawn error, not an FfmpegError', async () => {
  await assert.rejects(
    runFfmpeg(['-version'], { ffmpegPath: join(dir, 'no-ffmpeg-here') }),
    (error: NodeJS.ErrnoException) => error.code === 'ENOENT' && !(error instanceof FfmpegError),
  );
});

test('ffprobe is found beside ffmpeg unless given', () => {
  assert.equal(ffprobePathFor({}), 'ffprobe');
  assert.equal(ffprobePathFor({ ffmpegPath: '/usr/bin/ffmpeg' }), '/usr/bin/ffprobe');
  assert.equal(ffprobePathFor({ ffmpegPath: '/opt/ffmpeg/bin/ffmpeg.exe' }), '/opt/ffmpeg/bin/ffprobe.exe');
  assert.equal(ffprobePathFor({ ffmpegPath: '/usr/bin/ffmpeg', ffprobePath: '/x/probe' }), '/x/probe');
});

test('a niced run is at that niceness from its exec on, and an abort still ends it', async () => {
  // Niced from the exec on, so the threads ffmpeg starts later (decoder, encoder) inherit it.
  let stat = '';
  await runProcess('sh', ['-c', 'cat /proc/$$/task/*/stat'], {
    niceness: 7,
    onStdout: (chunk) => (stat += chunk),
  });
  const nices = stat
    .trim()
    .split('\n')
    .map((line) => Number(line.slice(line.lastIndexOf(')') + 2).split(' ')[16]));
  assert.ok(nices.length > 0);
  assert.ok(
    nices.every((nice) => nice === 7),
    `nice values ${nices.join(', ')}`,
  );
  const controller = new AbortController();
  const running = runFfmpeg(endless, { niceness: 7, signal: controller.signal });
  setTimeout(() => controller.abort(), 200);
  await assert.rejects(
    running,
    (error: unknown) => error instanceof FfmpegError && error.reason === 'aborted',
  );
});
