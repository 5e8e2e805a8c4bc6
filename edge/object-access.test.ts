import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideAccess, type ObjectReference } from './object-access.ts';

const ref = (patch: Partial<ObjectReference> = {}): ObjectReference => ({
  ownerId: 'alice',
  status: 'ready',
  visibility: 'private',
  isOriginal: false,
  pendingModeration: false,
  ...patch,
});
const bob = { sub: 'bob', admin: false };

test('a public derivative is open to anyone, its original is not', () => {
  assert.equal(decideAccess([ref({ visibility: 'public' })], undefined, false), 'public');
  assert.equal(decideAccess([ref({ visibility: 'public', isOriginal: true })], bob, false), 'denied');
});

test("a public derivative awaiting its moderation verdict is its owner's (and admins') alone", () => {
  const pending = [ref({ visibility: 'public', pendingModeration: true })];
  assert.equal(decideAccess(pending, undefined, false), 'login');
  assert.equal(decideAccess(pending, bob, false), 'denied');
  assert.equal(decideAccess(pending, { sub: 'alice', admin: false }, false), 'private');
  assert.equal(decideAccess(pending, { sub: 'root', admin: true }, false), 'private');
});

test('private media: owner and admin pass, others are denied, strangers must log in', () => {
  assert.equal(decideAccess([ref()], { sub: 'alice', admin: false }, false), 'private');
  assert.equal(decideAccess([ref()], { sub: 'root', admin: true }, false), 'private');
  assert.equal(decideAccess([ref()], bob, false), 'denied');
  assert.equal(decideAccess([ref()], undefined, false), 'login');
  assert.equal(decideAccess([ref()], undefined, true), 'private');
});

test('deleted or rejected media are gone, unknown keys unknown', () => {
  assert.equal(decideAccess([ref({ status: 'deleted' }), ref({ status: 'rejected' })], bob, true), 'gone');
  assert.equal(decideAccess([], bob, true), 'unknown');
});

test('a key shared by a deleted and a live clone stays readable for the live owner', () => {
  const refs = [ref({ status: 'deleted', ownerId: 'bob' }), ref({ ownerId: 'alice' })];
  assert.equal(decideAccess(refs, { sub: 'alice', admin: false }, false), 'private');
});
