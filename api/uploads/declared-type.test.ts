import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { MediaView } from '../../contracts/media.ts';
import { type InProcessApi, startInProcessApi } from '../../test/in-process.ts';
import { makeVp9Webm } from '../../worker/video/test-fixtures.ts';

/**
 * A declared content type is a media type: case-insensitive, with parameters. Browsers declare recordings
 * with their codecs, so an app sending `MediaRecorder`'s type as it comes must not be refused.
 */
let api: InProcessApi;
let dir: string;

before(async () => {
  api = await startInProcessApi();
  dir = await mkdtemp(join(tmpdir(), 'declared-type-'));
});
after(async () => {
  await api?.stop();
  await rm(dir, { recursive: true, force: true });
});

const create = (contentType: string) =>
  api.call('recorder', {
    method: 'POST',
    url: '/v1/uploads',
    payload: { filename: 'clip', contentType, size: 1000 },
  });

test('a recording declared with its codecs, as MediaRecorder names it, passes the gate as video/webm', async () => {
  const webm = await readFile(await makeVp9Webm(dir, { seconds: 1 }));
  const session = await api.uploadCompleted('recorder', webm, 'video/webm;codecs=vp9,opus', 'clip.webm');
  const view = await api.call('recorder', { method: 'GET', url: `/v1/media/${session.mediaId}` });
  assert.equal(view.statusCode, 200, view.body);
  assert.equal((view.json() as MediaView).contentType, 'video/webm');
});

test('parameters and case are accepted on any accepted type', async () => {
  for (const declared of ['IMAGE/JPEG; Charset=binary', 'audio/ogg ; codecs="opus"', 'image/png;']) {
    const reply = await create(declared);
    assert.equal(reply.statusCode, 201, `${declared}: ${reply.body}`);
  }
});

test('what is not a media type, or names a refused one before its parameters, stays 415', async () => {
  for (const declared of [
    'image/svg+xml; x=image/jpeg',
    'image/jpeg foo',
    ' image/jpeg',
    'image/jpeg,',
    'image/',
  ]) {
    const reply = await create(declared);
    assert.equal(reply.statusCode, 415, `${declared}: ${reply.body}`);
    assert.equal((reply.json() as { code: string }).code, 'unsupported_media_type');
  }
});
