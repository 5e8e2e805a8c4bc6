import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../config.ts';
import { parseVideoLadder } from './ladder.ts';

test('VIDEO_LADDER: smallest first, the historical names kept, other heights named by label', () => {
  assert.deepEqual(loadConfig({}).video.ladder, [
    { quality: 'low', height: 360, videoKbps: 800 },
    { quality: '480p', height: 480, videoKbps: 1400 },
    { quality: 'medium', height: 720, videoKbps: 2800 },
    { quality: 'high', height: 1080, videoKbps: 5000 },
  ]);
  assert.deepEqual(parseVideoLadder(' 1440p:9000 , 240p:300 '), [
    { quality: '240p', height: 240, videoKbps: 300 },
    { quality: '1440p', height: 1440, videoKbps: 9000 },
  ]);
});

test('a malformed VIDEO_LADDER stops the process at start-up, naming the variable', () => {
  for (const raw of ['', '720:2800', '720p', '720p:2800,720p:1400', '721p:2800', '100p:50', '720p:abc']) {
    assert.throws(() => loadConfig({ VIDEO_LADDER: raw || ',' }), /VIDEO_LADDER|video\/ladder/, raw);
  }
});
