import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import sharp from 'sharp';
import { codedImage, heifEnc } from '../../worker/image/test-heif.ts';
import { writeHeic } from '../../worker/image/test-heif-writer.ts';
import { HeifHeaderError, readHeifHeader } from './heif-header.ts';
import { ProbeFailedError, probeImageHead } from './probe.ts';

/** A reader over `file` that records how many bytes the parser asked for. */
function reader(file: Buffer) {
  const reads: number[] = [];
  return {
    reads,
    read: async (start: number, end: number) => {
      reads.push(end - start + 1);
      return file.subarray(start, end + 1);
    },
  };
}

let portrait: Buffer;
let avif: Buffer;
before(async () => {
  const photo = await sharp({ create: { width: 320, height: 240, channels: 3, background: '#6a8' } })
    .jpeg()
    .toBuffer();
  const coded = codedImage(await heifEnc(photo, { params: ['preset=ultrafast'] }));
  // A big first image pushes the primary's pixels far from the header, as a burst does.
  portrait = writeHeic([{ coded }, { coded, rotate: 1 }], 1);
  avif = await heifEnc(photo, { avif: true });
});

test('HEIC: brands, the primary image and its irot-turned size, from the header boxes only', async () => {
  const { read, reads } = reader(portrait);
  const header = await readHeifHeader(portrait.subarray(0, 64), portrait.length, read);
  assert.deepEqual(
    { codec: header.codec, width: header.width, height: header.height, rotation: header.rotation },
    { codec: 'hevc', width: 240, height: 320, rotation: 90 },
  );
  assert.equal(header.imageCount, 2);
  assert.ok(header.brands.includes('heic'));
  const total = reads.reduce((a, b) => a + b, 0);
  assert.ok(total < 4096, `read ${total} bytes past the head`);
});

test('the gate probe of HEIC and AVIF answers their displayed size without decoding', async () => {
  for (const [file, container] of [
    [portrait, 'heif'],
    [avif, 'avif'],
  ] as const) {
    const probe = await probeImageHead(file.subarray(0, 1024), file.length, reader(file).read);
    assert.equal(probe.container, container);
    assert.ok(probe.width && probe.height);
  }
});

test('crafted or cut HEIF headers are refused as unreadable, never thrown as anything else', async () => {
  const meta = portrait.indexOf('meta', 0, 'latin1') - 4;
  const metaEnd = meta + portrait.readUInt32BE(meta);
  let seed = 7;
  const random = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed;
  };
  const variants: Buffer[] = [portrait.subarray(0, metaEnd - 10), portrait.subarray(0, 40)];
  for (let i = 0; i < 300; i++) {
    const copy = Buffer.from(portrait);
    for (let j = 0; j < 3; j++) copy[meta + 8 + (random() % (metaEnd - meta - 8))] = random() & 0xff;
    variants.push(copy);
  }
  for (const file of variants) {
    try {
      const probe = await probeImageHead(file.subarray(0, 1024), file.length, reader(file).read);
      assert.ok((probe.width ?? 0) >= 0);
    } catch (error) {
      assert.ok(error instanceof ProbeFailedError, `unexpected ${String(error)}`);
    }
  }
  await assert.rejects(
    readHeifHeader(portrait.subarray(0, 40), 40, reader(portrait).read),
    (error) => error instanceof HeifHeaderError,
  );
});
