// There is no container engine on the test machines, so the image is checked where it can go wrong without
// one: what it runs as, how it starts, what it installs, and whether the bundle it runs is built from files
// it copies and finds every package and file it needs.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, matchesGlob } from 'node:path';
import { after, before, test } from 'node:test';
import { configVariables } from '../../platform/config.ts';
import { packageRoot } from '../../platform/package-root.ts';
import { scratchBundle } from '../bundle/bundle.ts';

/** glibc and Node read these when a process starts, so only the image (not the config) can set them. */
const processSettings = ['MALLOC_ARENA_MAX', 'MALLOC_MMAP_THRESHOLD_', 'NODE_OPTIONS'];
const text = (path: string) => readFileSync(join(packageRoot, path), 'utf8');
const pkg = JSON.parse(text('package.json')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

interface Instruction {
  keyword: string;
  args: string;
}

/** Instructions in order, continuation lines joined, comments dropped, build ARG defaults substituted. */
function parseDockerfile(source: string): Instruction[] {
  const lines = source.replace(/\\\n/g, ' ').split('\n');
  const args = new Map<string, string>();
  const instructions: Instruction[] = [];
  for (const line of lines.map((l) => l.trim())) {
    if (line === '' || line.startsWith('#')) continue;
    const [, keyword = '', rest = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const expanded = rest.replace(/\$\{(\w+)\}|\$(\w+)/g, (m, a, b) => args.get(a ?? b) ?? m);
    if (keyword.toUpperCase() === 'ARG') {
      const [name = '', value = ''] = expanded.split('=');
      args.set(name, value);
    }
    instructions.push({ keyword: keyword.toUpperCase(), args: expanded.replace(/\s+/g, ' ') });
  }
  return instructions;
}

const instructions = parseDockerfile(text('deploy/docker/Dockerfile'));
const all = (keyword: string) => instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
const finalStage = instructions.slice(instructions.findLastIndex((i) => i.keyword === 'FROM'));
const inFinal = (keyword: string) => finalStage.filter((i) => i.keyword === keyword).map((i) => i.args);
/** Where the image's final stage copies each path from: the build context, or an earlier stage. */
const finalCopies = inFinal('COPY').map((copy) => {
  const parts = copy.split(' ');
  const from = parts[0]?.startsWith('--from=') ? parts.shift()?.slice('--from='.length) : undefined;
  return { from, source: parts[0] as string, target: parts[1] as string };
});
/** Files the bundle reads at run time, beside it rather than inside it. */
const runtimeFiles = ['db/migrations/meta/_journal.json', 'console/src/index.html', 'console/src/main.js'];

let bundle: Awaited<ReturnType<typeof scratchBundle>>;
before(async () => {
  bundle = await scratchBundle();
});
after(() => bundle.remove());

test('every base image is pinned to a full version, and it is the Node the project pins', () => {
  const stages = new Set<string>();
  for (const from of all('FROM')) {
    const [image = '', , alias] = from.split(' ');
    if (alias) stages.add(alias);
    if (stages.has(image)) continue;
    assert.match(image, /^[\w./-]+:\d+\.\d+\.\d+(-[\w.-]+)?(@sha256:[0-9a-f]{64})?$/, `FROM ${from}`);
    if (image.startsWith('node:')) {
      const [major, minor, patch] = (pkg.dependencies.node ?? '').replace(/^\D+/, '').split('.').map(Number);
      const [imageMajor, imageMinor, imagePatch] = (/:(\d+)\.(\d+)\.(\d+)/.exec(image) ?? [])
        .slice(1)
        .map(Number);
      assert.equal(
        imageMajor,
        major,
        `${image} runs the Node major of package.json (${pkg.dependencies.node})`,
      );
      const atLeast =
        (imageMinor as number) > (minor as number) ||
        (imageMinor === minor && (imagePatch as number) >= (patch as number));
      assert.ok(atLeast, `${image} is at least package.json's ${pkg.dependencies.node}`);
    }
  }
});

test('the image runs as a non-root user, by number, under tini, as the mediagate command', () => {
  const user = inFinal('USER').at(-1);
  assert.ok(user, 'the final stage sets USER');
  const [uid] = user.split(':');
  assert.match(uid ?? '', /^\d+$/, 'a numeric uid, so Kubernetes can check runAsNonRoot');
  assert.notEqual(Number(uid), 0);
  const entrypoint = JSON.parse(inFinal('ENTRYPOINT').at(-1) ?? '[]') as string[];
  assert.deepEqual(entrypoint.slice(0, 2), ['/usr/bin/tini', '--'], 'tini is PID 1 and forwards signals');
  assert.equal(entrypoint[2], 'mediagate');
  assert.ok(
    inFinal('RUN').some((run) => run.includes('ln -s /app/dist/mediagate.js /usr/local/bin/mediagate')),
    'the command is the bundle',
  );
  assert.ok(
    finalCopies.some((copy) => copy.from === 'build' && copy.source === '/app/dist'),
    'the bundle comes from the build stage',
  );
  assert.ok(
    all('RUN').some((run) => run.includes('node deploy/bundle/main.ts /app/dist')),
    'a stage builds it with deploy/bundle',
  );
  assert.match(inFinal('RUN').join(' '), /apt-get install[^&]*\btini\b[^&]*/);
  assert.match(inFinal('RUN').join(' '), /apt-get install[^&]*\bffmpeg\b/, 'the worker needs ffmpeg');
  assert.deepEqual(
    inFinal('HEALTHCHECK'),
    ['NONE'],
    'probes belong to the orchestrator: ports differ by role',
  );
});

test('dependencies are installed from the lock file without devDependencies', () => {
  const installs = all('RUN').filter((run) => /\bnpm (ci|install|i)\b/.test(run));
  assert.ok(installs.length > 0);
  for (const run of installs) {
    assert.match(run, /\bnpm ci\b/, 'the lock file decides every version');
    assert.match(run, /--omit=dev\b/);
  }
});

test('every package the bundle imports is a production dependency', () => {
  assert.ok(bundle.packages.includes('sharp'), 'packages stay external, native ones included');
  const missing = bundle.packages.filter((name) => !(name in pkg.dependencies));
  assert.deepEqual(missing, [], 'imported at run time but absent from the image (devDependencies or none)');
});

test('the build stage holds every source of the bundle, the image every file it reads, and the context both', () => {
  const buildStage = instructions.slice(
    instructions.findIndex((i) => i.keyword === 'FROM' && i.args.endsWith(' AS build')),
    instructions.findLastIndex((i) => i.keyword === 'FROM'),
  );
  const builtFrom = buildStage
    .filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from'))
    .map((i) => i.args.split(' ')[0] as string);
  const sources = bundle.inputs.filter((file) => !file.startsWith('node_modules/'));
  assert.ok(sources.includes('worker/image/ladder.ts'), 'the bundle holds the worker');
  for (const file of sources) {
    assert.ok(builtFrom.includes(file.split('/')[0] as string), `${file} is copied into the build stage`);
  }
  const shipped = finalCopies.filter((copy) => !copy.from).map((copy) => copy.source);
  for (const file of runtimeFiles) {
    assert.ok(
      shipped.some((source) => file.startsWith(`${source}/`)),
      `${file} is copied into the image`,
    );
  }
  const ignored = text('.dockerignore')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  for (const required of ['**/node_modules', '.git', '.mediagate', '**/.env']) {
    assert.ok(ignored.includes(required), `.dockerignore leaves out ${required}`);
  }
  const excluded = (file: string) =>
    ignored.some((pattern) => matchesGlob(file, pattern) || file.startsWith(`${pattern}/`));
  for (const file of [...sources, ...runtimeFiles]) {
    assert.ok(!excluded(file), `${file} is not left out by .dockerignore`);
  }
});

test('the environment the image sets is configuration the roles read, or the memory settings', () => {
  const accepted = new Set([...configVariables(), ...processSettings]);
  for (const env of inFinal('ENV')) {
    for (const [, name] of env.matchAll(/(\w+)=\S+/g)) assert.ok(accepted.has(name as string), name);
  }
  const set = inFinal('ENV').join(' ');
  assert.match(set, /DATA_DIR=\/tmp\//, 'writes go to the /tmp volume, not the root fs');
  // A worker without them grows past 500 MB: libvips' threads each keep their peak in an arena of their own.
  assert.match(set, /MALLOC_ARENA_MAX=2\b/);
  assert.match(set, /MALLOC_MMAP_THRESHOLD_=131072\b/);
  // Node's default 32 MB young generation kept every role 120–180 MB above what its code needs.
  assert.match(set, /NODE_OPTIONS=--max-semi-space-size=4\b/);
});
