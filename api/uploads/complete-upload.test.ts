import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { imageResult } from '../../test/image-results.ts';
import { type InProcessApi, startInProcessApi, type UploadedSession } from '../../test/in-process.ts';
import { assertConsistent, assertGapless, uploadFacts } from '../../test/upload-facts.ts';
import { makeJpegWithGps } from '../../worker/image/test-images.ts';
import { applyOptimizeResult } from '../results/apply-result.ts';

let api: InProcessApi;
let photo: Buffer;
before(async () => {
  api = await startInProcessApi();
  photo = await makeJpegWithGps(64, 48, { lat: 1, lon: 2 });
});
after(() => api.stop());

const rounds = 20;
const complete = (sub: string, s: UploadedSession) =>
  api.call(sub, { method: 'POST', url: `/v1/uploads/${s.uploadId}/complete`, payload: { parts: s.parts } });
const abort = (sub: string, s: UploadedSession) =>
  api.call(sub, { method: 'DELETE', url: `/v1/uploads/${s.uploadId}` });
const deleteMedia = (sub: string, s: UploadedSession) =>
  api.call(sub, { method: 'DELETE', url: `/v1/media/${s.mediaId}` });

/** `status code` of a reply, e.g. `409 upload_completing`; asserts it is one of `allowed`. */
function outcome(reply: LightMyRequestResponse, allowed: string[], context: string): string {
  const code = reply.statusCode < 300 ? '' : ` ${reply.json().code}`;
  const seen = `${reply.statusCode}${code}`;
  assert.ok(allowed.includes(seen), `${context}: ${seen} ${reply.body}`);
  if (reply.statusCode === 409) assert.ok(Number(reply.headers['retry-after'] ?? 1) >= 1, context);
  return seen;
}

test('completing an upload moves its media to processing', async () => {
  const session = await api.upload('alice', photo, 'image/jpeg', 'a.jpg');
  const done = await complete('alice', session);
  assert.equal(done.statusCode, 202, done.body);
  assert.equal(done.json().status, 'processing');
});

test('concurrent completions all answer with the one recorded media, queued for processing once', async () => {
  for (let round = 0; round < rounds / 2; round++) {
    const session = await api.upload('carol', photo, 'image/jpeg');
    const replies = await Promise.all([1, 2, 3].map(() => complete('carol', session)));
    for (const reply of replies) {
      outcome(reply, ['202'], `round ${round}`);
      assert.equal(reply.json().id, session.mediaId);
      assert.equal(reply.json().status, 'processing');
    }
    const facts = await uploadFacts(api, session.uploadId);
    assertConsistent(facts, `round ${round}`);
    assert.deepEqual([facts.session, facts.media, facts.optimizeRequests], ['completed', 'processing', 1]);
  }
});

test('concurrent completions of content the gate refuses all answer with the one recorded 422', async () => {
  for (let round = 0; round < rounds / 4; round++) {
    // JPEG bytes declared as PNG: the gate refuses the type.
    const session = await api.upload('dave', photo, 'image/png');
    const replies = await Promise.all([1, 2, 3].map(() => complete('dave', session)));
    for (const reply of replies) outcome(reply, ['422 type_mismatch'], `round ${round}`);
    const facts = await uploadFacts(api, session.uploadId);
    assertConsistent(facts, `round ${round}`);
    assert.deepEqual([facts.session, facts.media], ['completed', 'rejected']);
  }
  await assertGapless(api, 'dave');
});

test('complete racing abort, in both orders: one of them wins and the other is told so', async () => {
  const wins = { complete: 0, abort: 0 };
  for (let round = 0; round < rounds; round++) {
    const session = await api.upload('erin', photo, 'image/jpeg');
    const [done, aborted] =
      round % 2 === 0
        ? await Promise.all([complete('erin', session), abort('erin', session)])
        : await Promise.all([abort('erin', session), complete('erin', session)]).then(
            ([a, c]) => [c, a] as const,
          );
    const c = outcome(done, ['202', '409 upload_not_open'], `round ${round} complete`);
    const a = outcome(
      aborted,
      ['204', '409 upload_completing', '409 upload_not_open'],
      `round ${round} abort`,
    );
    const facts = await uploadFacts(api, session.uploadId);
    assertConsistent(facts, `round ${round}`);
    assert.equal(c === '202', facts.session === 'completed', `round ${round}: complete ${c}, abort ${a}`);
    assert.equal(a === '204', facts.session === 'aborted', `round ${round}: complete ${c}, abort ${a}`);
    if (c === '202') assert.equal(done.json().status, 'processing');
    wins[c === '202' ? 'complete' : 'abort'] += 1;
  }
  await assertGapless(api, 'erin');
  console.log(`complete vs abort over ${rounds} rounds: ${JSON.stringify(wins)}`);
});

test('complete racing the deletion of its media: never a 202 for a media deleted before it was processed', async () => {
  for (let round = 0; round < rounds; round++) {
    const session = await api.upload('frank', photo, 'image/jpeg');
    const [done, deleted] = await Promise.all([complete('frank', session), deleteMedia('frank', session)]);
    const c = outcome(done, ['202', '409 upload_not_open', '410 gone'], `round ${round} complete`);
    const d = outcome(deleted, ['204', '409 upload_completing'], `round ${round} delete`);
    const facts = await uploadFacts(api, session.uploadId);
    assertConsistent(facts, `round ${round}`);
    if (c === '202') assert.ok(facts.history.includes('processing'), `round ${round}`);
    if (d === '204') assert.equal(facts.media, 'deleted', `round ${round}`);
    if (d === '409 upload_completing') assert.equal(facts.media, 'processing', `round ${round}`);
  }
  await assertGapless(api, 'frank');
});

test('reading the upload and refreshing part URLs while it completes never fails', async () => {
  for (let round = 0; round < rounds / 2; round++) {
    const session = await api.upload('gina', photo, 'image/jpeg');
    const [done, state, urls] = await Promise.all([
      complete('gina', session),
      api.call('gina', { method: 'GET', url: `/v1/uploads/${session.uploadId}` }),
      api.call('gina', {
        method: 'POST',
        url: `/v1/uploads/${session.uploadId}/parts`,
        payload: { partNumbers: [1] },
      }),
    ]);
    outcome(done, ['202'], `round ${round} complete`);
    outcome(state, ['200'], `round ${round} state`);
    assert.ok(['open', 'completing', 'completed'].includes(state.json().state), state.body);
    outcome(urls, ['200', '409 upload_completing', '409 upload_not_open'], `round ${round} parts`);
    assertConsistent(await uploadFacts(api, session.uploadId), `round ${round}`);
  }
});

test('after completion, abort and parts answer 409 upload_not_open and completing again the same 202', async () => {
  const session = await api.upload('hana', photo, 'image/jpeg');
  const first = await complete('hana', session);
  assert.equal(first.statusCode, 202, first.body);
  outcome(await abort('hana', session), ['409 upload_not_open'], 'abort');
  outcome(
    await api.call('hana', {
      method: 'POST',
      url: `/v1/uploads/${session.uploadId}/parts`,
      payload: { partNumbers: [1] },
    }),
    ['409 upload_not_open'],
    'parts',
  );
  const again = await complete('hana', session);
  assert.equal(again.statusCode, 202, again.body);
  assert.equal(again.json().id, first.json().id);
  assert.equal((await uploadFacts(api, session.uploadId)).optimizeRequests, 1);
});

test('completing again once the media is ready answers with its variants, as GET /v1/media/:id does', async () => {
  const session = await api.upload('ines', photo, 'image/jpeg');
  const first = await complete('ines', session);
  assert.equal(first.statusCode, 202, first.body);
  assert.deepEqual(first.json().variants, []);
  const result = imageResult(session.mediaId, [
    ['high', 'webp', 900],
    ['low', 'webp', 100],
  ]);
  assert.equal(await applyOptimizeResult(api.ctx.db, randomUUID(), result), 'applied');
  const again = await complete('ines', session);
  assert.equal(again.statusCode, 202, again.body);
  assert.equal(again.json().status, 'ready');
  const view = await api.call('ines', { method: 'GET', url: `/v1/media/${session.mediaId}` });
  assert.deepEqual(
    again.json().variants.map((v: { quality: string }) => v.quality),
    ['low', 'high'],
  );
  assert.deepEqual(again.json().variants, view.json().variants);
});

test('an aborted upload: completing answers 409 upload_not_open, aborting again 204', async () => {
  const session = await api.upload('ivan', photo, 'image/jpeg');
  assert.equal((await abort('ivan', session)).statusCode, 204);
  outcome(await complete('ivan', session), ['409 upload_not_open'], 'complete');
  assert.equal((await abort('ivan', session)).statusCode, 204);
  assertConsistent(await uploadFacts(api, session.uploadId));
});
