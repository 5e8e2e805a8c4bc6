import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { ReplayBody } from '../contracts/ops.ts';
import { checked } from './checked-args.ts';

/** `mediagate outbox replay` judges its selector by the route's rules: what one refuses, so does the other. */
const replay = (selector: object) => checked(ReplayBody, selector, 'usage');

test('dates are judged by the instant they denote, as the route judges them', () => {
  for (const from of [
    '2026-12-03T23:59:60Z',
    '9999-12-31T23:59:59-23:59',
    '1970-01-01T00:30:00+01:00',
    '2024-02-30T00:00:00Z',
    '0000-01-01T00:00:00Z',
    'yesterday',
  ]) {
    assert.throws(() => replay({ from, to: '2024-01-01T00:00:00Z' }), /from/, from);
  }
  assert.deepEqual(replay({ from: '1970-01-01T00:00:00Z', to: '9999-12-31T23:59:59.999Z' }), {
    from: '1970-01-01T00:00:00Z',
    to: '9999-12-31T23:59:59.999Z',
  });
});

test('ids must be canonical lower-case UUIDs', () => {
  const id = randomUUID();
  for (const bad of [`urn:uuid:${id}`, id.toUpperCase(), `{${id}}`]) {
    assert.throws(() => replay({ mediaId: bad }), /mediaId/, bad);
    assert.throws(() => replay({ ids: [bad] }), /ids/, bad);
  }
  assert.deepEqual(replay({ mediaId: id }), { mediaId: id });
});
