import assert from 'node:assert/strict';
import { test } from 'node:test';
import { S3Error } from './errors.ts';
import { EMPTY_SHA256, verifyRequest } from './sigv4.ts';

// The example credentials and requests below are the ones AWS publishes in the S3 API reference
// ("Signature Calculations for the Authorization Header", "Authenticating Requests: Using Query
// Parameters", and the chunked-upload pages), with the signatures AWS printed.

const identity = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  region: 'us-east-1',
};
const signedAt = Date.UTC(2013, 4, 24, 0, 0, 0);

const getObject = {
  method: 'GET',
  url: '/test.txt',
  headers: {
    host: 'examplebucket.s3.amazonaws.com',
    range: 'bytes=0-9',
    'x-amz-content-sha256': EMPTY_SHA256,
    'x-amz-date': '20130524T000000Z',
    authorization:
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
  },
};

const presignedGet = {
  method: 'GET',
  url:
    '/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request' +
    '&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host' +
    '&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
  headers: { host: 'examplebucket.s3.amazonaws.com' },
};

function rejects(run: () => unknown, status: number, code: string, message?: string): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof S3Error);
    assert.equal(error.status, status);
    assert.equal(error.code, code);
    if (message !== undefined) assert.equal(error.message, message);
    return true;
  });
}

test('accepts the published GET Object example and reports what it signed', () => {
  const auth = verifyRequest(getObject, identity, signedAt + 60_000);
  assert.equal(auth.signature, 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41');
  assert.equal(auth.payloadHash, EMPTY_SHA256);
  assert.equal(auth.scope, '20130524/us-east-1/s3/aws4_request');
  assert.equal(auth.presigned, false);
});

test('rejects the GET example once a signed header, the secret, or the signature changes', () => {
  const tamperedRange = { ...getObject, headers: { ...getObject.headers, range: 'bytes=0-10' } };
  rejects(() => verifyRequest(tamperedRange, identity, signedAt), 403, 'SignatureDoesNotMatch');
  rejects(
    () => verifyRequest(getObject, { ...identity, secretAccessKey: 'wrong' }, signedAt),
    403,
    'SignatureDoesNotMatch',
  );
  const authorization = getObject.headers.authorization.replace('f0e8', 'f0e9');
  rejects(
    () =>
      verifyRequest({ ...getObject, headers: { ...getObject.headers, authorization } }, identity, signedAt),
    403,
    'SignatureDoesNotMatch',
  );
  rejects(
    () => verifyRequest(getObject, { ...identity, accessKeyId: 'OTHER' }, signedAt),
    403,
    'InvalidAccessKeyId',
  );
  rejects(
    () => verifyRequest(getObject, { ...identity, region: 'eu-west-1' }, signedAt),
    400,
    'AuthorizationHeaderMalformed',
  );
});

test('rejects a header-signed request from more than 15 minutes away', () => {
  rejects(() => verifyRequest(getObject, identity, signedAt + 16 * 60_000), 403, 'RequestTimeTooSkewed');
  rejects(() => verifyRequest(getObject, identity, signedAt - 16 * 60_000), 403, 'RequestTimeTooSkewed');
});

test('accepts the published presigned GET until X-Amz-Expires runs out, then refuses it as expired', () => {
  const auth = verifyRequest(presignedGet, identity, signedAt + 86_400_000);
  assert.equal(auth.presigned, true);
  assert.equal(auth.payloadHash, 'UNSIGNED-PAYLOAD');
  rejects(
    () => verifyRequest(presignedGet, identity, signedAt + 86_401_000),
    403,
    'AccessDenied',
    'Request has expired',
  );
});

test('rejects a presigned URL whose signature, path or query was altered', () => {
  const tamper = (url: string) => () => verifyRequest({ ...presignedGet, url }, identity, signedAt);
  rejects(
    tamper(presignedGet.url.replace('X-Amz-Signature=aeee', 'X-Amz-Signature=beee')),
    403,
    'SignatureDoesNotMatch',
  );
  rejects(tamper(presignedGet.url.replace('/test.txt', '/other.txt')), 403, 'SignatureDoesNotMatch');
  rejects(tamper(`${presignedGet.url}&partNumber=1`), 403, 'SignatureDoesNotMatch');
  rejects(
    tamper(presignedGet.url.replace('X-Amz-Expires=86400', 'X-Amz-Expires=999999')),
    400,
    'AuthorizationQueryParametersError',
  );
});

test('rejects x-amz-* headers that a presigned URL did not sign', () => {
  const headers = { ...presignedGet.headers, 'x-amz-meta-owner': 'mallory' };
  rejects(() => verifyRequest({ ...presignedGet, headers }, identity, signedAt), 403, 'AccessDenied');
});

test('rejects anonymous requests', () => {
  rejects(
    () => verifyRequest({ method: 'GET', url: '/test.txt', headers: {} }, identity, signedAt),
    403,
    'AccessDenied',
  );
});
