import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { uploadFile } from '../cli/upload.ts';
import type { MediaView } from '../contracts/media.ts';
import { freePort } from '../deploy/ports.ts';
import { makeJpegWithGps } from '../worker/image/test-images.ts';
import { makeH264Clip } from '../worker/video/test-fixtures.ts';
import { apiClient, uploadBytes } from './client.ts';
import type { Platform } from './harness.ts';
import { readThroughEdge } from './photos.ts';

/**
 * A newcomer's `npm start`, Ctrl-C, `npm start`: `mediagate dev` run as the user runs it, in its own
 * process on its own DATA_DIR, with nothing configured but the ports.
 */

const cli = fileURLToPath(new URL('../bin/mediagate.ts', import.meta.url));

// The suite may be pointed at external servers; a newcomer's shell has none of that.
const operatorSettings =
  /^(DATABASE_URL|S3_|KAFKA_|JWT_|URL_SIGNING_SECRET|JWKS_URL|API_PORT|EDGE_PORT|METRICS_PORT|DATA_DIR)/;
const cleanEnv = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !operatorSettings.test(name)),
);

interface Run {
  child: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
}

function mediagate(args: string[], env: Record<string, string>): Run {
  const child = spawn(process.execPath, ['--disable-warning=TimeoutNegativeWarning', cli, ...args], {
    env: { ...cleanEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, like a command started in a terminal, so Ctrl-C can reach the whole group.
    detached: true,
  });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, lines, exited };
}

async function untilServing(run: Run, edgePort: number, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (run.child.exitCode !== null) throw new Error(`dev exited:\n${run.lines.join('\n')}`);
    const listening = run.lines.some((line) => line.includes(`listening at http://127.0.0.1:${edgePort}`));
    if (listening) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`dev did not start within ${timeoutMs} ms:\n${run.lines.join('\n')}`);
}

/**
 * Ctrl-C as a terminal sends it: SIGINT to every process of the foreground group, children included.
 * Resolves to the exit code and how long the stop took.
 */
async function interrupt(run: Run): Promise<{ code: number | null; ms: number }> {
  const started = performance.now();
  process.kill(-(run.child.pid ?? 0), 'SIGINT');
  const code = await run.exited;
  return { code, ms: Math.round(performance.now() - started) };
}

const errorLines = (lines: string[]) => lines.filter((line) => /error|"level":[56]0/i.test(line));

let dir: string;
let env: { DATA_DIR: string; API_PORT: string; EDGE_PORT: string; METRICS_PORT: string };
let running: Run | undefined;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mediagate-dev-'));
  // As root, PostgreSQL runs as the `postgres` user, which must be able to reach DATA_DIR.
  await chmod(dir, 0o755);
  const [apiPort, edgePort, metricsPort] = [await freePort(), await freePort(), await freePort()];
  env = {
    DATA_DIR: join(dir, 'data'),
    API_PORT: String(apiPort),
    EDGE_PORT: String(edgePort),
    METRICS_PORT: String(metricsPort),
  };
});

after(async () => {
  if (running && running.child.exitCode === null) {
    running.child.kill('SIGKILL');
    await running.exited;
  }
  await rm(dir, { recursive: true, force: true });
});

describe('npm start, Ctrl-C, npm start: the same data comes back', () => {
  let media: MediaView;
  let bytesBefore: Buffer | undefined;
  let interruptedVideo: string | undefined;
  const client = async () => {
    const token = mediagate(['token', '--sub', 'newcomer'], { DATA_DIR: env.DATA_DIR });
    assert.equal(await token.exited, 0, token.lines.join('\n'));
    return apiClient({ apiUrl: `http://127.0.0.1:${env.API_PORT}` } as Platform, token.lines.at(-1));
  };

  test('a first start serves an upload through to ready', async () => {
    running = mediagate(['dev'], env);
    await untilServing(running, Number(env.EDGE_PORT));
    const token = mediagate(['token', '--sub', 'newcomer'], { DATA_DIR: env.DATA_DIR });
    assert.equal(await token.exited, 0, token.lines.join('\n'));
    const photo = join(dir, 'photo.jpg');
    await writeFile(photo, await makeJpegWithGps(1600, 1200, { lat: 1, lon: 2 }));
    media = await uploadFile(photo, {
      apiUrl: `http://127.0.0.1:${env.API_PORT}`,
      token: token.lines.at(-1) ?? '',
    });
    assert.equal(media.status, 'ready', JSON.stringify(media.failure));
    const read = await readThroughEdge(media.url ?? '');
    assert.equal(read.status, 302);
    bytesBefore = read.bytes;
    // The same file again: the API answers with a ready copy at once, which `upload` prints.
    const again = await uploadFile(photo, {
      apiUrl: `http://127.0.0.1:${env.API_PORT}`,
      token: token.lines.at(-1) ?? '',
    });
    assert.equal(again.status, 'ready');
    assert.notEqual(again.id, media.id);
  });

  test('a second dev on the same DATA_DIR is told at once, in one line, whatever its ports', async () => {
    const ports = { API_PORT: await freePort(), EDGE_PORT: await freePort(), METRICS_PORT: await freePort() };
    const second = mediagate(['dev'], {
      ...env,
      ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
    });
    assert.equal(await second.exited, 1);
    assert.equal(second.lines.length, 1, second.lines.join('\n'));
    assert.match(
      second.lines[0] ?? '',
      /^mediagate dev is already running in .+ \(pid \d+\): stop it or use another DATA_DIR$/,
    );
  });

  test('Ctrl-C while a video is being processed stops it cleanly, without an error line', async () => {
    assert.ok(running);
    const api = await client();
    const clip = await makeH264Clip(dir, 'clip.mp4', {
      width: 1280,
      height: 720,
      seconds: 12,
      faststart: true,
    });
    const { mediaId, complete } = await uploadBytes(api, await readFile(clip), 'video/mp4', 'clip.mp4');
    assert.equal(complete.status, 202, JSON.stringify(complete.body));
    // The poster is published first: from then on the worker is encoding and uploading renditions.
    const midJob = await api.waitForMedia(mediaId, (m) => m.variants.length > 0 || m.status !== 'processing');
    assert.equal(midJob.status, 'processing', 'interrupted while the job runs');
    interruptedVideo = mediaId;

    const { code, ms } = await interrupt(running);
    console.log(`dev stopped ${ms} ms after SIGINT, mid-job`);
    assert.equal(code, 0, running.lines.slice(-20).join('\n'));
    assert.deepEqual(errorLines(running.lines), []);
  });

  test('a second start in the same DATA_DIR serves what was uploaded before', async () => {
    const started = performance.now();
    running = mediagate(['dev'], env);
    await untilServing(running, Number(env.EDGE_PORT));
    console.log(`second start served after ${Math.round(performance.now() - started)} ms`);

    const token = mediagate(['token', '--sub', 'newcomer'], { DATA_DIR: env.DATA_DIR });
    assert.equal(await token.exited, 0, token.lines.join('\n'));
    const reply = await fetch(`http://127.0.0.1:${env.API_PORT}/v1/media/${media.id}`, {
      headers: { authorization: `Bearer ${token.lines.at(-1)}` },
    });
    assert.equal(reply.status, 200);
    const again = (await reply.json()) as MediaView;
    assert.equal(again.status, 'ready');

    // The URL handed out before the restart still loads: same secrets, same storage, same bytes.
    const read = await readThroughEdge(media.url ?? '');
    assert.equal(read.status, 302);
    assert.ok(read.bytes && bytesBefore && read.bytes.equals(bytesBefore));

    // The job the Ctrl-C interrupted was handed back, so it resumes at once.
    assert.ok(interruptedVideo);
    const resumed = await (await client()).waitForMedia(
      interruptedVideo,
      (m) => m.status !== 'processing',
      90_000,
    );
    assert.equal(resumed.status, 'ready', JSON.stringify(resumed.failure));

    const { code } = await interrupt(running);
    assert.equal(code, 0);
    assert.deepEqual(errorLines(running.lines), []);
  });
});

describe('what a user is told', () => {
  test('a taken API or edge port: one line naming the port and the setting', async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const taken = (squatter.address() as { port: number }).port;
    try {
      for (const setting of ['API_PORT', 'EDGE_PORT']) {
        const run = mediagate(['dev'], { ...env, [setting]: String(taken) });
        assert.equal(await run.exited, 1);
        assert.equal(run.lines.length, 1, run.lines.join('\n'));
        assert.match(run.lines[0] ?? '', new RegExp(`port ${taken} .*set ${setting}`));
      }
    } finally {
      squatter.close();
    }
  });

  test('a taken METRICS_PORT: one line naming it, before anything starts', async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const taken = (squatter.address() as { port: number }).port;
    try {
      const run = mediagate(['dev'], { ...env, METRICS_PORT: String(taken) });
      assert.equal(await run.exited, 1);
      assert.deepEqual(run.lines, [
        `port ${taken} (metrics) is already in use: stop what holds it, or set METRICS_PORT to a free port`,
      ]);
    } finally {
      squatter.close();
    }
  });

  test('a role ignores the dev.env a previous `mediagate dev` left in DATA_DIR', async () => {
    const run = mediagate(['api'], { DATA_DIR: env.DATA_DIR });
    assert.equal(await run.exited, 1);
    assert.deepEqual(run.lines, ['Missing configuration: DATABASE_URL is required']);
  });
});
