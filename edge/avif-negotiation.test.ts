import assert from 'node:assert/strict';
import { test } from 'node:test';
import { acceptsAvif, avifNegotiation, avifSibling } from './avif-negotiation.ts';

test('only an explicit image/avif with a non-zero q takes AVIF', () => {
  const chrome = 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8';
  assert.equal(acceptsAvif(chrome), true);
  assert.equal(acceptsAvif('image/webp, image/avif;q=0.5'), true);
  assert.equal(acceptsAvif('IMAGE/AVIF'), true);
  for (const refuses of [
    undefined,
    '',
    'image/webp,image/*,*/*;q=0.8',
    'image/avif;q=0',
    'image/avif; q=0.000, image/webp',
    'image/avifx',
    'x-image/avif',
    `${'a'.repeat(3000)},image/avif`,
  ]) {
    assert.equal(acceptsAvif(refuses), false, String(refuses));
  }
});

test('only derived WebP rungs have an AVIF sibling', () => {
  assert.equal(avifSibling('derived/m/r/high.webp'), 'derived/m/r/high.avif');
  assert.equal(avifSibling('derived/m/r/thumbnail.webp'), 'derived/m/r/thumbnail.avif');
  assert.equal(avifSibling('raw/m/abc'), undefined);
  assert.equal(avifSibling('derived/m/r/high.mp4'), undefined);
});

test('the sibling is served when it exists and the client accepts it; the answer varies by Accept', async () => {
  const lookups: string[] = [];
  const known = new Set(['derived/m/r/high.avif']);
  const negotiate = avifNegotiation((key) => {
    lookups.push(key);
    return { refs: known.has(key) ? [{}] : [] };
  });
  assert.deepEqual(await negotiate('derived/m/r/high.webp', 'image/avif'), {
    key: 'derived/m/r/high.avif',
    varies: true,
  });
  assert.deepEqual(await negotiate('derived/m/r/low.webp', 'image/avif'), {
    key: 'derived/m/r/low.webp',
    varies: true,
  });
  assert.deepEqual(await negotiate('derived/m/r/high.webp', 'image/webp'), {
    key: 'derived/m/r/high.webp',
    varies: true,
  });
  assert.deepEqual(await negotiate('raw/m/x', 'image/avif'), { key: 'raw/m/x', varies: false });
  // Clients that do not take AVIF, and keys without a sibling, cost no lookup.
  assert.deepEqual(lookups, ['derived/m/r/high.avif', 'derived/m/r/low.avif']);
});
