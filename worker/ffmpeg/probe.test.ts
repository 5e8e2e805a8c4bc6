import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FfmpegError } from '../../platform/media/run-ffmpeg.ts';
import { makeEmpty, makeH264Clip, makeTruncated } from '../video/test-fixtures.ts';
import { MediaInputError } from './media-input-error.ts';
import { ffprobeFile } from './probe.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'probe-input-test-'));
});
after(() => rm(dir, { recursive: true, force: true }));

test('empty and truncated files are the upload’s fault, with a code', async () => {
  await assert.rejects(ffprobeFile(await makeEmpty(dir)), (error: unknown) => {
    assert.ok(error instanceof MediaInputError);
    assert.equal(error.code, 'media_empty');
    return true;
  });
  const truncated = await makeTruncated(await makeH264Clip(dir, 'whole.mp4'));
  await assert.rejects(ffprobeFile(truncated), (error: unknown) => {
    assert.ok(error instanceof MediaInputError);
    assert.equal(error.code, 'media_undecodable');
    assert.ok(error.cause instanceof FfmpegError);
    assert.match(error.cause.stderrTail, /moov atom not found/);
    return true;
  });
});

test('a missing ffprobe is ours to fix, not a rejection of the upload', async () => {
  const clip = await makeH264Clip(dir, 'any.mp4', { audio: false });
  await assert.rejects(
    ffprobeFile(clip, { ffprobePath: join(dir, 'no-ffprobe') }),
    (error: unknown) => !(error instanceof MediaInputError),
  );
});
