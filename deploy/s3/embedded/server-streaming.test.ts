import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { BUCKET, MiB, patterned, useServer } from './server-harness.ts';

// Objects never pass through memory whole: uploads land on disk as they arrive, downloads are read
// from disk as the client consumes them.

const h = useServer();

test('streams a 20 MiB object to disk and back without holding it in memory', async () => {
  const Key = 'big/20mib.bin';
  const chunk = 64 * 1024;
  const total = 20 * MiB;
  const expected = createHash('sha256');
  let spooledMidway = 0;
  async function* generate(): AsyncGenerator<Buffer> {
    for (let offset = 0; offset < total; offset += chunk) {
      const piece = patterned(chunk, offset / chunk);
      expected.update(piece);
      if (offset === total / 2) spooledMidway = await waitForSpool(4 * MiB);
      yield piece;
    }
  }
  await h.client.send(
    new PutObjectCommand({ Bucket: BUCKET, Key, Body: Readable.from(generate()), ContentLength: total }),
  );
  assert.ok(spooledMidway >= 4 * MiB, 'the first half was already on disk while the second was still unsent');

  const before = await arrayBuffersAfterGc();
  const got = await h.client.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
  const reader = (got.Body as Readable)[Symbol.asyncIterator]();
  const actual = createHash('sha256').update((await reader.next()).value as Buffer);
  // The client stops reading; a server that had loaded the file would now hold all of it in memory.
  await sleep(200);
  const paused = await arrayBuffersAfterGc();
  assert.ok(
    paused - before < 8 * MiB,
    `${((paused - before) / MiB).toFixed(1)} MiB held while the client paused`,
  );
  for (let next = await reader.next(); !next.done; next = await reader.next())
    actual.update(next.value as Buffer);
  assert.equal(actual.digest('hex'), expected.digest('hex'));
  assert.equal(got.ContentLength, total);
});

/** Waits until a staged upload in the server's tmp dir holds at least `bytes`; returns its size. */
async function waitForSpool(bytes: number): Promise<number> {
  const tmp = join(h.dataDir, 'tmp');
  for (let attempt = 0; attempt < 200; attempt++) {
    const spools = (await readdir(tmp)).filter((name) => name.endsWith('.spool'));
    const sizes = await Promise.all(
      spools.map((name) =>
        stat(join(tmp, name)).then(
          (s) => s.size,
          () => 0,
        ),
      ),
    );
    const largest = Math.max(0, ...sizes);
    if (largest >= bytes) return largest;
    await sleep(25);
  }
  return 0;
}

/** Bytes in ArrayBuffers once garbage is collected, sweeping included. */
async function arrayBuffersAfterGc(): Promise<number> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  await sleep(50);
  gc();
  return process.memoryUsage().arrayBuffers;
}
