// The webhooks CLI refuses what it cannot mean before touching the database: typos, repeats, empty lists.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../platform/config.ts';
import { runWebhooks } from './webhooks.ts';

const config = loadConfig({});
const endpoint = '--endpoint=00000000-0000-4000-8000-000000000000'.split('=');

test('a repeated, unknown or valueless flag and an empty --events are errors, never guesses', async () => {
  const cases: [string[], RegExp][] = [
    [['deliveries', ...endpoint, '--limit', '1', '--limit', '2'], /--limit given more than once/],
    [['deliveries', ...endpoint, '--befor', 'x'], /unknown argument --befor/],
    [['deliveries', ...endpoint, '--limit'], /--limit needs a value/],
    [['deliveries', ...endpoint, '--limit', 'many'], /limit/],
    [['add', '--url', 'https://93.184.216.34/h', '--events', ''], /eventTypes/],
    [['add', '--url', 'https://93.184.216.34/h', '--events', 'media.ready,,media.failed'], /eventTypes/],
    [['list', '--all', 'yes'], /unknown argument --all/],
    [['nope'], /usage/],
  ];
  for (const [args, message] of cases)
    await assert.rejects(runWebhooks(config, args), message, args.join(' '));
});
