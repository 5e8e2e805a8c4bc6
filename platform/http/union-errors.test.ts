import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Type } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import { ReplayBody } from '../../contracts/ops.ts';
import { focusUnionErrors } from './union-errors.ts';

const ajv = new Ajv({ allErrors: true, strict: false, logger: false });
const messagesFor = (schema: object, value: unknown) => {
  const validate = ajv.compile(schema);
  assert.equal(validate(value), false);
  return focusUnionErrors(validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
};

test('a body shaped like one alternative is told only what is wrong inside it', () => {
  const messages = messagesFor(ReplayBody, {
    from: '2026-01-01T00:00:00Z',
    to: '2026-02-01T00:00:00Z',
    topic: 'bogus',
  });
  assert.equal(messages.length, 1, messages.join('\n'));
  assert.match(messages[0] ?? '', /^\/topic must be one of "optimize\.request", .*"lifecycle"/);
});

test('a body no alternative fits is told what each one needs', () => {
  assert.deepEqual(messagesFor(ReplayBody, {}), [
    " must have required property 'ids'",
    " must have required property 'mediaId'",
    " must have required property 'from'",
    " must have required property 'to'",
    ' must match a schema in anyOf',
  ]);
});

test('an object or null: a bad object is told about the object, not that it should be null', () => {
  const schema = Type.Object({
    owner: Type.Union([Type.Object({ id: Type.Integer() }, { additionalProperties: false }), Type.Null()]),
  });
  assert.deepEqual(messagesFor(schema, { owner: { id: 'x' } }), ['/owner/id must be integer']);
  assert.deepEqual(messagesFor(schema, { owner: 5 }), [
    '/owner must be object',
    '/owner must be null',
    '/owner must match a schema in anyOf',
  ]);
});

test('a body nearest one form is told what that form lacks or does not take', () => {
  assert.deepEqual(messagesFor(ReplayBody, { from: '2026-01-01T00:00:00Z' }), [
    " must have required property 'to'",
  ]);
  assert.deepEqual(messagesFor(ReplayBody, { mediaId: 'bad', topic: 'lifecycle' }), [
    ' must NOT have additional properties',
    '/mediaId must match pattern "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"',
  ]);
});
