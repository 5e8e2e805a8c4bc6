import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { type GenericModerationDouble, genericModerationImage } from './generic-moderation-double.ts';
import { type SightengineDouble, sightengineImage } from './sightengine-double.ts';

/**
 * The gate never sends a vendor the uploaded bytes: it sends a re-encoded downscale (images) or frames
 * ffmpeg sampled (videos), so the markers the doubles read would not survive the trip. A judge sits
 * between the API and a double and restores them from what does survive, the picture itself: each image
 * whose dominant colour has a rule gets that rule's markers appended before it is forwarded. The double
 * still does all the talking (wire format, faults, call counts).
 */
export type Colour = 'red' | 'green' | 'blue';

export interface Judge {
  /** Where the API should send its vendor calls (SIGHTENGINE_BASE_URL or MODERATION_URL). */
  url: string;
  close(): Promise<void>;
}

/** `{ red: { 'gore.prob': 0.93 } }`: a mostly red picture reaches the double scoring gore 0.93. */
export function startSightengineJudge(
  double: SightengineDouble,
  rules: Partial<Record<Colour, Record<string, number>>>,
): Promise<Judge> {
  const target = new URL(double.baseUrl).origin;
  return serve('/1.0', async (req, body) => {
    const type = req.headers['content-type'] ?? '';
    if (!type.startsWith('multipart/form-data'))
      return forward(`${target}${req.url}`, new Uint8Array(body), { 'content-type': type });
    const form = await new Response(new Uint8Array(body), { headers: { 'content-type': type } }).formData();
    const media = form.get('media');
    if (media instanceof File) {
      const bytes = Buffer.from(await media.arrayBuffer());
      const scores = await ruleFor(rules, bytes);
      if (scores)
        form.set('media', new Blob([bytes, sightengineImage(scores)], { type: media.type }), media.name);
    }
    return forward(`${target}${req.url}`, form, {});
  });
}

/** `{ blue: 'pending' }`: the model defers its verdict on a mostly blue picture; scores work as above. */
export function startGenericJudge(
  double: GenericModerationDouble,
  rules: Partial<Record<Colour, Record<string, number> | 'pending'>>,
): Promise<Judge> {
  const target = new URL(double.url);
  return serve(target.pathname, async (req, body) => {
    const json = JSON.parse(body.toString('utf8')) as { images?: { dataBase64: string }[] };
    for (const image of json.images ?? []) {
      const bytes = Buffer.from(image.dataBase64, 'base64');
      const rule = await ruleFor(rules, bytes);
      if (!rule) continue;
      const markers =
        rule === 'pending' ? genericModerationImage({}, { pending: true }) : genericModerationImage(rule);
      image.dataBase64 = Buffer.concat([bytes, markers]).toString('base64');
    }
    return forward(`${target.origin}${req.url}`, JSON.stringify(json), {
      'content-type': 'application/json',
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
    });
  });
}

/** The rule for the colour covering most of the picture, when one clearly does. */
async function ruleFor<T>(rules: Partial<Record<Colour, T>>, bytes: Buffer): Promise<T | undefined> {
  const { channels } = await sharp(bytes).stats();
  const [r = 0, g = 0, b = 0] = channels.map((c) => c.mean);
  const strong = (x: number, others: number[]) => x > 150 && others.every((o) => o < 100);
  if (strong(r, [g, b])) return rules.red;
  if (strong(g, [r, b])) return rules.green;
  if (strong(b, [r, g])) return rules.blue;
  return undefined;
}

type Forwarded = { status: number; headers: Record<string, string>; body: string };

async function forward(
  url: string,
  body: string | FormData | Uint8Array,
  headers: Record<string, string>,
): Promise<Forwarded> {
  const reply = await fetch(url, { method: 'POST', body, headers });
  const passed: Record<string, string> = {};
  for (const name of ['content-type', 'retry-after']) {
    const value = reply.headers.get(name);
    if (value !== null) passed[name] = value;
  }
  return { status: reply.status, headers: passed, body: await reply.text() };
}

async function serve(
  prefix: string,
  handle: (req: IncomingMessage, body: Buffer) => Promise<Forwarded>,
): Promise<Judge> {
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    try {
      const reply = await handle(req, Buffer.concat(chunks));
      res.writeHead(reply.status, reply.headers).end(reply.body);
    } catch (error) {
      // The double dropped the connection (an injected fault): so does the judge.
      res.socket?.destroy(error as Error);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${prefix}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
