import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import type { Frame } from './frames.ts';
import { SseStream } from './sse-stream.ts';

const frame = (n: number): Frame => ({
  id: String(n),
  type: 'media.progress',
  message: {
    type: 'media.progress',
    timestamp: new Date(0).toISOString(),
    data: { mediaId: '00000000-0000-4000-8000-000000000000', progress: { [`r${n}`.repeat(40)]: 0.5 } },
  },
});

test('a client that stops reading is dropped once the unread output passes the bound', () => {
  let sent = 0;
  const stream = new SseStream(4096, () => sent++);
  for (let n = 0; n < 1000 && !stream.ended; n++) stream.send(frame(n));
  assert.ok(stream.ended, 'ended');
  assert.ok(stream.body.destroyed, 'its buffer released');
  assert.ok(sent > 0 && sent < 1000, `${sent} frames counted as sent, no more`);
  const before = sent;
  stream.ping();
  stream.send(frame(1001));
  assert.equal(sent, before, 'nothing is written after the drop');
});

test('a client that reads gets every frame in the SSE wire format, however many', async () => {
  const stream = new SseStream(4096, () => {});
  let text = '';
  const reader = new Writable({
    highWaterMark: 256,
    write(chunk, _encoding, done) {
      text += chunk.toString();
      setImmediate(done);
    },
  });
  const piped = pipeline(stream.body, reader);
  stream.retry(2000);
  for (let n = 0; n < 200; n++) {
    stream.send(frame(n));
    // A writer that respects backpressure waits for the reader, as the hub's slow pace does in practice.
    if (stream.body.readableLength > 2048) await new Promise((r) => setTimeout(r, 5));
  }
  stream.ping();
  stream.end();
  await piped;
  assert.ok(text.startsWith('retry: 2000\n\n'));
  assert.equal(text.match(/^event: media\.progress$/gm)?.length, 200);
  assert.match(text, /^id: 199\nevent: media\.progress\ndata: \{.*\}\n\n: ping\n\n$/m);
});
