import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { EventSource } from 'eventsource';
import { registerContractFormats } from '../contracts/formats.ts';
import type { MediaView } from '../contracts/media.ts';
import { LiveStatusMessage } from '../contracts/media-events.ts';
import { makeH264Clip } from '../worker/video/test-fixtures.ts';
import { apiClient, uploadBytes } from './client.ts';
import { type Platform, startPlatform } from './harness.ts';

/**
 * A real SSE client (the `eventsource` package, as an app would use it, with its Bearer header) follows a
 * video from `complete` to `ready` on the separate-process stack, across an API restart in the middle: the
 * client reconnects by itself with its Last-Event-ID, and sees every rendition once and the end once.
 */
let platform: Platform;
let dir: string;

before(async () => {
  platform = await startPlatform({
    env: { SSE_POLL_MS: '200', SSE_HEARTBEAT_MS: '1000', SSE_RETRY_MS: '300' },
  });
  dir = await mkdtemp(join(tmpdir(), 'mediagate-live-'));
});
after(async () => {
  await platform?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Seen {
  type: string;
  id: string;
  message: LiveStatusMessage;
}

const liveTypes = [
  'media.status',
  'media.progress',
  'media.variant.ready',
  'media.ready',
  'media.failed',
  'media.rejected',
  'media.deleted',
];

test('a video followed live from complete to ready, across an api restart', async (t) => {
  const token = platform.token('viewer');
  const client = apiClient(platform, token);
  const clip = await makeH264Clip(dir, 'live.mp4', { width: 1280, height: 720, seconds: 4 });
  const { mediaId, complete } = await uploadBytes(client, await readFile(clip), 'video/mp4', 'live.mp4');
  assert.equal(complete.status, 202, JSON.stringify(complete.body));

  const requests: { lastEventId: string | null; status?: number }[] = [];
  const source = new EventSource(`${platform.apiUrl}/v1/media/${mediaId}/events`, {
    fetch: async (input, init) => {
      const request = {
        lastEventId: new Headers(init?.headers).get('last-event-id'),
      } as (typeof requests)[0];
      requests.push(request);
      const response = await fetch(input, {
        ...init,
        headers: { ...init?.headers, authorization: `Bearer ${token}` },
      });
      request.status = response.status;
      return response;
    },
  });
  const seen: Seen[] = [];
  let notify = () => {};
  const next = () => new Promise<void>((resolve) => (notify = resolve));
  for (const type of liveTypes) {
    source.addEventListener(type, (event) => {
      seen.push({ type, id: event.lastEventId, message: JSON.parse(event.data) as LiveStatusMessage });
      notify();
    });
  }
  const waitFor = async (what: string, done: () => boolean, timeoutMs = 180_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      assert.ok(Date.now() < deadline, `${what}; seen: ${seen.map((s) => s.type).join(', ')}`);
      await Promise.race([next(), new Promise((r) => setTimeout(r, 250))]);
    }
  };

  try {
    await waitFor('the opening state', () => seen.length > 0);
    const opening = seen[0]?.message;
    assert.equal(opening?.type, 'media.status');
    assert.equal(opening?.type === 'media.status' && opening.data.status, 'processing');

    // The api goes away while the worker is busy: its results wait in Kafka for the next api.
    await waitFor('work under way', () => seen.length > 1);
    const stopping = Date.now();
    await platform.roles.api.stop('SIGTERM');
    const stoppedIn = Date.now() - stopping;
    const beforeRestart = seen.length;
    const lastIdBefore = seen.findLast((s) => s.id !== '')?.id;
    assert.notEqual(
      platform.roles.api.child.signalCode,
      'SIGKILL',
      'the api stopped by itself, streams and all',
    );
    assert.equal(platform.roles.api.child.exitCode, 0);
    const restarting = Date.now();
    await platform.restart('api');
    t.diagnostic(`api restart → listening: ${Date.now() - restarting} ms`);
    t.diagnostic(`api SIGTERM → exited: ${stoppedIn} ms with a stream open`);

    await waitFor('media.ready', () => seen.some((s) => s.type === 'media.ready'));
    await waitFor('the client stopped on 204', () => source.readyState === EventSource.CLOSED, 30_000);

    const view = (await client.get<MediaView>(`/v1/media/${mediaId}`)).body;
    assert.equal(view.status, 'ready', JSON.stringify(view.failure));
    assert.ok(seen.length > beforeRestart, 'events arrived after the restart');
    const resumedWith = requests.slice(1).map((r) => r.lastEventId);
    assert.ok(resumedWith.includes(lastIdBefore ?? ''), `reconnected from ${lastIdBefore}: ${resumedWith}`);
    assert.equal(requests.at(-1)?.status, 204, 'a reconnect after the end is told there is no more');

    registerContractFormats();
    for (const s of seen) assert.ok(Value.Check(LiveStatusMessage, s.message), JSON.stringify(s.message));
    const ids = seen.filter((s) => s.type !== 'media.progress').map((s) => s.id);
    assert.equal(new Set(ids).size, ids.length, `no event twice: ${ids.join(' ')}`);
    const announced = seen.flatMap((s) =>
      s.message.type === 'media.variant.ready' ? [s.message.data.variant.quality] : [],
    );
    const fromOpening = opening?.type === 'media.status' ? (opening.data.media?.variants ?? []) : [];
    assert.deepEqual(
      [...fromOpening.map((v) => v.quality), ...announced].sort(),
      view.variants.map((v) => v.quality).sort(),
      'every rendition announced once, none missed',
    );
    assert.deepEqual(
      seen.filter((s) => s.type === 'media.ready' || s.type === 'media.failed').map((s) => s.type),
      ['media.ready'],
    );
    assert.equal(seen.at(-1)?.type, 'media.ready', 'the end is the last thing said');
    const progress = seen.filter((s) => s.type === 'media.progress');
    t.diagnostic(
      `${seen.length} events (${progress.length} progress, ${announced.length} renditions), ${requests.length} connections`,
    );
  } finally {
    source.close();
  }
});
