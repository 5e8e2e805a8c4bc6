import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { LifecycleEvent } from '../lifecycle.ts';
import { lifecycleExamples } from './lifecycle-examples.ts';
import { lifecycleSchemaFiles } from './lifecycle-schema.ts';

const dir = new URL('./', import.meta.url);
const committed = async (name: string) => JSON.parse(await readFile(new URL(name, dir), 'utf8'));

test('the committed JSON Schema files are what `npm run contracts:schema` writes', async () => {
  const expected = lifecycleSchemaFiles();
  const present = (await readdir(dir)).filter((f) => f.endsWith('.schema.json')).sort();
  assert.deepEqual(present, Object.keys(expected).sort(), 'run npm run contracts:schema');
  for (const [name, text] of Object.entries(expected)) {
    assert.equal(
      await readFile(new URL(name, dir), 'utf8'),
      text,
      `${name} is stale: run npm run contracts:schema`,
    );
  }
});

test('a consumer in another language validates the events mediagate writes, and refuses broken ones', async () => {
  const ajv = new Ajv2020({ strict: false });
  addFormats.default(ajv);
  const any = ajv.compile(await committed('lifecycle.schema.json'));
  for (const example of lifecycleExamples) {
    assert.ok(Value.Check(LifecycleEvent, example), `${example.type} example breaks the TypeBox contract`);
    assert.ok(any(example), `${example.type}: ${ajv.errorsText(any.errors)}`);
    const own = ajv.compile(await committed(`${example.type}.schema.json`));
    assert.ok(own(example), `${example.type}: ${ajv.errorsText(own.errors)}`);
  }
  const [variant, ready] = lifecycleExamples;
  const broken = [
    { ...ready, id: 'not-an-id' },
    { ...ready, type: 'media.exploded' },
    { ...ready, version: 2 },
    { ...ready, data: { ...ready?.data, variants: undefined } },
    { ...variant, type: 'media.ready' },
  ];
  for (const event of broken) {
    assert.equal(any(event), false, JSON.stringify(event));
    assert.equal(Value.Check(LifecycleEvent, event), false, JSON.stringify(event));
  }
});

test('fields added to an event later do not break a consumer of this version', async () => {
  const any = new Ajv2020({ strict: false }).compile(await committed('lifecycle.schema.json'));
  const [, ready] = lifecycleExamples;
  assert.ok(any({ ...ready, data: { ...ready?.data, durationSeconds: 12.5 } }), 'data is open for additions');
});
