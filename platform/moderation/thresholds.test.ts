import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sightengineScores } from './sightengine.ts';
import { maxScores, verdictFromScores } from './thresholds.ts';

// Vendor replies are parsed JSON, so a category may be named like any member of Object.prototype.
const inherited = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'];

test('a category named like an Object member rejects only when the operator set its threshold', () => {
  for (const name of inherited) {
    const scores = JSON.parse(`{"${name}": 1}`) as Record<string, number>;
    assert.deepEqual(verdictFromScores(scores, { 'weapon.firearm': 0.5 }), { decision: 'allow' }, name);
    const own = JSON.parse(`{"${name}": 0.5}`) as Record<string, number>;
    assert.equal(verdictFromScores(scores, own).decision, 'reject', name);
  }
});

test("a video's worst scores keep every category, __proto__ included", () => {
  const frames = [JSON.parse('{"__proto__": 0.2, "gore": 0.1}'), JSON.parse('{"__proto__": 0.9}')];
  const worst = maxScores(frames);
  assert.deepEqual(Object.entries(worst), [
    ['__proto__', 0.9],
    ['gore', 0.1],
  ]);
  assert.equal(Object.getPrototypeOf(worst), Object.prototype);
});

test('Sightengine scores keep a model named __proto__ instead of re-parenting the table', () => {
  const scores = sightengineScores(
    JSON.parse('{"status":"success","__proto__":{"prob":0.8},"gore":{"prob":0.1}}'),
  );
  assert.deepEqual(Object.entries(scores), [
    ['__proto__', 0.8],
    ['gore', 0.1],
  ]);
});
