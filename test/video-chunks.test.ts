import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import type { MediaView } from '../contracts/media.ts';
import { stopMarkKey } from '../contracts/object-keys.ts';
import { freePort } from '../deploy/ports.ts';
import { makeH264Clip } from '../worker/video/test-fixtures.ts';
import { apiClient, uploadBytes } from './client.ts';
import { type Platform, startPlatform } from './harness.ts';
import { sweep } from './photos.ts';
import { type RoleProcess, spawnRole, waitForHttp } from './processes.ts';

/**
 * A video encoded in 2 s chunk jobs by two worker processes on Kafka: it plays through the edge from its
 * first chunks while still processing, the fleet shares it, a worker killed mid-video costs at most the
 * chunk it was on, and the assembled renditions and HLS have exactly the source's frames.
 */
const run = promisify(execFile);
let platform: Platform;
let second: RoleProcess;
let db: pg.Pool;
let dir: string;
let clip: Buffer;
let source: { frames: number; seconds: number };

before(async () => {
  platform = await startPlatform({
    s3: 'embedded',
    // One chunk at a time per worker, so a killed worker loses exactly one; info logs count the encodes.
    // Six partitions, three per worker. Chunk jobs are keyed by chunk and hashed to partitions, so a 24 s
    // clip's 10 chunk keys all land on one worker's three about once in 500 runs (a 16 s clip's 7: once in 64).
    env: { VIDEO_CHUNK_SECONDS: '2', WORKER_CONCURRENCY: '1', LOG_LEVEL: 'info', KAFKA_PARTITIONS: '6' },
  });
  const metricsPort = await freePort();
  second = spawnRole('worker', { ...platform.env, METRICS_PORT: String(metricsPort) });
  await waitForHttp(`http://127.0.0.1:${metricsPort}/readyz`, second, 60_000);
  // Its readiness says its consumers started; sharing a video needs it in the chunk jobs' group.
  const deadline = Date.now() + 60_000;
  const joined = () =>
    second.output.some((line) => line.includes('joined its group') && line.includes('video.chunk.worker'));
  while (!joined() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  db = new pg.Pool({ connectionString: platform.env.DATABASE_URL, max: 2 });
  dir = await mkdtemp(join(tmpdir(), 'mediagate-video-chunks-'));
  const path = await makeH264Clip(dir, 'clip.mp4', {
    width: 1280,
    height: 720,
    seconds: 24,
    faststart: true,
  });
  clip = await readFile(path);
  source = await countFrames(path);
});
after(async () => {
  await second?.stop('SIGKILL');
  await db?.end();
  await platform?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function countFrames(url: string): Promise<{ frames: number; seconds: number }> {
  const { stdout } = await run('ffprobe', [
    ...['-v', 'error', '-select_streams', 'v:0', '-count_frames'],
    ...['-show_entries', 'stream=nb_read_frames:format=duration', '-of', 'json', url],
  ]);
  const probed = JSON.parse(stdout) as {
    streams: { nb_read_frames: string }[];
    format: { duration: string };
  };
  return { frames: Number(probed.streams[0]?.nb_read_frames), seconds: Number(probed.format.duration) };
}

const encodesOf = (mediaId: string) =>
  [...platform.roles.worker.output, ...second.output].filter(
    (line) => line.includes('"chunk encode started"') && line.includes(mediaId),
  ).length;

async function chunkRows(mediaId: string) {
  const { rows } = await db.query<{ quality: string; worker: string; encoded: boolean }>(
    'select quality, worker, encoded from video_chunk where media_id = $1',
    [mediaId],
  );
  const { rows: plan } = await db.query<{ chunk_count: number; rungs: number }>(
    `select p.chunk_count, (select count(*)::int from video_rung r where r.media_id = p.media_id) as rungs
       from video_plan p where p.media_id = $1`,
    [mediaId],
  );
  return { rows, chunkCount: plan[0]?.chunk_count ?? 0, rungs: plan[0]?.rungs ?? 0 };
}

describe('a video shared by the fleet in chunk jobs', () => {
  test('plays through the edge from its first chunks while processing, shared by both workers, and every rendition has the source frames', async () => {
    const alice = apiClient(platform, platform.token('alice'));
    const { mediaId, complete } = await uploadBytes(alice, clip, 'video/mp4');
    assert.equal(complete.status, 202, JSON.stringify(complete.body));
    const completedAt = performance.now();
    const early = await alice.waitForMedia(
      mediaId,
      (m) => m.status !== 'processing' || m.variants.some((v) => v.quality === 'hls'),
      120_000,
    );
    assert.equal(early.status, 'processing', 'the HLS URL is shown before the video is ready');
    const masterUrl = early.variants.find((v) => v.quality === 'hls')?.url as string;
    const master = await (await fetch(masterUrl)).text();
    const lowestUrl = master.split('\n').find((line) => line.startsWith('http')) as string;
    const lowest = await (await fetch(lowestUrl)).text();
    assert.match(lowest, /#EXT-X-PLAYLIST-TYPE:EVENT/);
    assert.doesNotMatch(lowest, /#EXT-X-ENDLIST/, 'still growing');
    // A player through the edge: the first frames decode from the master URL alone.
    await run('ffmpeg', [
      '-v',
      'error',
      '-i',
      masterUrl,
      '-map',
      '0:v:0',
      '-frames:v',
      '30',
      '-f',
      'null',
      '-',
    ]);
    const firstPlayable = performance.now() - completedAt;

    const ready = await alice.waitForMedia(mediaId, (m) => m.status !== 'processing', 180_000);
    assert.equal(ready.status, 'ready', JSON.stringify(ready.failure));
    assert.equal(ready.failure, null);
    const { rows, chunkCount, rungs } = await chunkRows(mediaId);
    // 2 s chunks, cut at the source's keyframes where one lies near (8.33 s here): some 10 of them.
    assert.ok(chunkCount >= 8 && chunkCount <= 12, `${chunkCount} chunks`);
    assert.equal(rows.length, chunkCount * rungs, 'every (chunk, rung) recorded once');
    const workers = new Set(rows.map((row) => row.worker));
    const membership = (output: string[]) =>
      output.filter((line) => /joined its group|rebalanc|chunk encode started/.test(line)).slice(-12);
    assert.ok(
      workers.size >= 2,
      `chunks encoded by ${[...workers].join(', ')}; first worker:\n${membership(platform.roles.worker.output).join('\n')}\nsecond:\n${membership(second.output).join('\n')}`,
    );

    const renditions = ready.variants.filter((v) => v.format === 'mp4');
    assert.deepEqual(renditions.map((v) => v.quality).sort(), ['480p', 'low', 'medium']);
    for (const rendition of [
      ...renditions,
      ready.variants.find((v) => v.quality === 'hls') as MediaView['variants'][number],
    ]) {
      const built = await countFrames(rendition.url);
      assert.equal(built.frames, source.frames, `${rendition.quality}: frame count`);
      if (rendition.format === 'mp4')
        assert.ok(
          Math.abs(built.seconds - source.seconds) <= 0.05,
          `${rendition.quality}: ${built.seconds} s`,
        );
    }
    const finished = await (await fetch(lowestUrl)).text();
    assert.match(finished, /#EXT-X-ENDLIST/);
    // Every rung is cut at the same instants (its chunks), so players switch rungs without a glitch.
    const finalMaster = await (await fetch(masterUrl)).text();
    const cuts = await Promise.all(
      finalMaster
        .split('\n')
        .filter((line) => line.startsWith('http'))
        .map(async (url) => (await (await fetch(url)).text()).match(/#EXTINF:[0-9.]+/g)),
    );
    assert.equal(cuts.length, 3);
    for (const rung of cuts) assert.deepEqual(rung, cuts[0]);
    console.log(
      `${Math.round(source.seconds)} s 720p in ${chunkCount} chunks × ${rungs} rungs on ${workers.size} workers: first playable ${Math.round(firstPlayable)} ms after complete`,
    );
  });

  test('a video deleted mid-encode: its chunk jobs stop, and nothing it built stays in storage', async () => {
    const carol = apiClient(platform, platform.token('carol'));
    const { mediaId, complete } = await uploadBytes(carol, clip, 'video/mp4');
    assert.equal(complete.status, 202, JSON.stringify(complete.body));
    const deadline = Date.now() + 120_000;
    while (encodesOf(mediaId) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const deleted = await carol.delete(`/v1/media/${mediaId}`);
    assert.equal(deleted.status, 204, JSON.stringify(deleted.body));
    const atDelete = encodesOf(mediaId);
    const { chunkCount, rungs } = await chunkRows(mediaId);
    const jobs = chunkCount * Math.min(2, rungs);
    const ended = () =>
      [...platform.roles.worker.output, ...second.output].filter(
        (line) =>
          (line.includes('"chunk done"') || line.includes('"chunk job stopped: media stopped"')) &&
          line.includes(mediaId),
      ).length;
    while (ended() < jobs && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const after = encodesOf(mediaId) - atDelete;
    console.log(`deleted after ${atDelete} chunk encodes: ${after} more of ${jobs} jobs`);
    // One per worker may start while the delete's stop mark is on its way (outbox, bus, consumer).
    assert.ok(after <= 2, `${after} chunk encodes started after the delete`);
    const left = async () => {
      const keys: string[] = [];
      for (const prefix of [`raw/${mediaId}/`, `derived/${mediaId}/`])
        for await (const object of platform.storage.listKeys(prefix)) keys.push(object.key);
      // The mark stays an hour for jobs still queued, then goes like the rest.
      return keys.filter((key) => key !== stopMarkKey(mediaId));
    };
    // The regular sweep, whose orphan scan leaves anything younger than a day alone.
    while ((await left()).length > 0 && Date.now() < deadline) {
      await sweep(platform);
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.deepEqual(await left(), []);
    // The coordinating request ends too, once, instead of retrying against an original that is gone.
    const logged = (message: string) =>
      [...platform.roles.worker.output, ...second.output].filter(
        (line) => line.includes(`"${message}"`) && line.includes(mediaId),
      ).length;
    while (logged('video request ended: media stopped') === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    assert.equal(logged('video coordinator planning'), 1, 'the request was not retried');
    assert.equal(logged('video request ended: media stopped'), 1);
    const { rows } = await db.query('select 1 from storage_garbage where object_key = $1', [
      stopMarkKey(mediaId),
    ]);
    assert.equal(rows.length, 1, 'the stop mark is queued for deletion');
  });

  test('a worker killed mid-video: the video still becomes ready, and at most the chunk it was on is encoded twice', async () => {
    const bob = apiClient(platform, platform.token('bob'));
    const { mediaId, complete } = await uploadBytes(bob, clip, 'video/mp4');
    assert.equal(complete.status, 202, JSON.stringify(complete.body));
    const deadline = Date.now() + 120_000;
    const count = (worker: RoleProcess, message: string) =>
      worker.output.filter((line) => line.includes(`"${message}"`) && line.includes(mediaId)).length;
    const midEncode = (worker: RoleProcess) =>
      count(worker, 'chunk encode started') > count(worker, 'chunk done');
    // Killed between starting an encode and reporting it: the chunk it was on is lost. The victim is whichever
    // worker gets there first: a chunk's partition, and so its worker, follows from its key.
    let victim: RoleProcess | undefined;
    while (!victim && Date.now() < deadline) {
      victim = [platform.roles.worker, second].find(midEncode);
      if (!victim) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(victim, 'a worker started encoding a chunk');
    victim.child.kill('SIGKILL');
    assert.ok(midEncode(victim), 'killed mid-encode');
    const ready = await bob.waitForMedia(mediaId, (m) => m.status !== 'processing', 180_000);
    assert.equal(ready.status, 'ready', JSON.stringify(ready.failure));
    const { chunkCount, rungs } = await chunkRows(mediaId);
    const jobs = chunkCount * Math.min(2, rungs);
    const encodes = encodesOf(mediaId);
    console.log(`killed worker: ${encodes} chunk encodes for ${jobs} chunk jobs`);
    assert.ok(encodes <= jobs + 1, `${encodes} encodes for ${jobs} jobs`);
  });
});
