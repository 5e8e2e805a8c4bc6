import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { BUCKET, credentials, MiB, patterned, s3Error, useServer } from './server-harness.ts';

// What a browser or a holder of a stale, forged or wrongly signed request gets back.

const h = useServer();

test('answers CORS preflight permissively and exposes ETag to browsers', async () => {
  const preflight = await fetch(`${h.s3.endpoint}/${BUCKET}/any/key`, {
    method: 'OPTIONS',
    headers: {
      origin: 'http://localhost:5173',
      'access-control-request-method': 'PUT',
      'access-control-request-headers': 'content-type',
    },
  });
  assert.equal(preflight.status, 200);
  assert.equal(preflight.headers.get('access-control-allow-origin'), 'http://localhost:5173');
  assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /PUT/);
  assert.equal(preflight.headers.get('access-control-allow-headers'), 'content-type');
  const url = await getSignedUrl(h.client, new PutObjectCommand({ Bucket: BUCKET, Key: 'browser.txt' }), {
    expiresIn: 60,
  });
  const put = await fetch(url, {
    method: 'PUT',
    body: 'from a browser',
    headers: { origin: 'http://localhost:5173' },
  });
  assert.equal(put.status, 200);
  assert.match(put.headers.get('access-control-expose-headers') ?? '', /\bETag\b/);
});

test('refuses expired, tampered and wrongly signed requests with 403', async () => {
  await h.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'secret.txt', Body: 'classified' }));
  const fresh = await getSignedUrl(h.client, new GetObjectCommand({ Bucket: BUCKET, Key: 'secret.txt' }), {
    expiresIn: 60,
  });
  assert.equal(await (await fetch(fresh)).text(), 'classified');

  const tamper = (url: string) =>
    url.replace(/X-Amz-Signature=([0-9a-f])/, (_, c: string) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`);
  const forged = await fetch(tamper(fresh));
  assert.equal(forged.status, 403);
  assert.match(await forged.text(), /<Code>SignatureDoesNotMatch<\/Code>/);
  const upload = await getSignedUrl(h.client, new PutObjectCommand({ Bucket: BUCKET, Key: 'secret.txt' }), {
    expiresIn: 60,
  });
  const overwrite = await fetch(tamper(upload), { method: 'PUT', body: patterned(2 * MiB, 9) });
  assert.equal(overwrite.status, 403);
  assert.match(await overwrite.text(), /<Code>SignatureDoesNotMatch<\/Code>/);

  const stranger = h.clientWith({ credentials: { ...credentials, secretAccessKey: 'not-the-secret' } });
  await assert.rejects(
    stranger.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'secret.txt' })),
    s3Error('SignatureDoesNotMatch', 403),
  );

  const shortLived = await getSignedUrl(
    h.client,
    new GetObjectCommand({ Bucket: BUCKET, Key: 'secret.txt' }),
    { expiresIn: 1 },
  );
  await sleep(2500);
  const expired = await fetch(shortLived);
  assert.equal(expired.status, 403);
  const body = await expired.text();
  assert.match(body, /<Code>AccessDenied<\/Code>/);
  assert.match(body, /<Message>Request has expired<\/Message>/);
  assert.equal(await (await fetch(fresh)).text(), 'classified', 'no refused request changed the object');
});
