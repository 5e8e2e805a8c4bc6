import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Fault, FaultQueue } from './faults.ts';
import { type SightengineVideoJobs, videoJobs } from './sightengine-video-double.ts';

/**
 * A Sightengine double on loopback speaking its wire format: POST /1.0/check.json as multipart/form-data
 * (media or url, models, api_user, api_secret), answering `{status:'success', request, <model>: {...},
 * media}` or `{status:'failure', request, error:{type, code, message}}`. Scores start low; an image carries
 * the scores the test wants as markers (see sightengineImage), written as paths in the reply's own shape.
 * Under /1.0/video/ it speaks the asynchronous video API (sightengine-video-double.ts).
 */
export interface SightengineDouble {
  /** Pass as the moderator's baseUrl (ends in /1.0, like the real one). */
  baseUrl: string;
  apiUser: string;
  apiSecret: string;
  /** Every request that reached check.json, faults included. */
  readonly calls: number;
  readonly requests: { models: string[]; mediaType?: string; mediaBytes?: number; url?: string }[];
  /** Queues faults for the next requests, in order. */
  fail(...faults: Fault[]): void;
  /** The asynchronous video API: its jobs, their plans, and a way to wait for their callbacks. */
  video: SightengineVideoJobs;
  close(): Promise<void>;
}

const markerPrefix = 'sightengine-double:';

/** JPEG-looking bytes carrying the scores the double should report, e.g. {'weapon.classes.firearm': 0.93}. */
export function sightengineImage(scores: Record<string, number> = {}): Buffer {
  const markers = Object.entries(scores).map(([path, score]) => `${markerPrefix}${path}=${score};`);
  return Buffer.concat([
    Buffer.from([0xff, 0xd8, 0xff, 0xe0]),
    Buffer.from(markers.join('')),
    Buffer.from([0xff, 0xd9]),
  ]);
}

export async function startSightengineDouble(): Promise<SightengineDouble> {
  const apiUser = `user-${randomBytes(4).toString('hex')}`;
  const apiSecret = randomBytes(16).toString('hex');
  const faults = new FaultQueue(() => failure('api_error', 2, 'injected failure'));
  const requests: SightengineDouble['requests'] = [];
  const video = videoJobs({ apiUser, apiSecret }, videoFrame, send, faults);

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.url?.startsWith('/1.0/video/')) {
      return video.handle(req, res, req.method === 'POST' ? await readForm(req) : undefined);
    }
    if (req.method !== 'POST' || req.url?.split('?')[0] !== '/1.0/check.json') {
      return send(res, 404, failure('request_error', 404, 'unknown endpoint'));
    }
    const form = await readForm(req);
    const models = String(form?.get('models') ?? '')
      .split(',')
      .filter(Boolean);
    const media = form?.get('media');
    const url = form?.get('url');
    requests.push({
      models,
      mediaType: media instanceof Blob ? media.type : undefined,
      mediaBytes: media instanceof Blob ? media.size : undefined,
      url: typeof url === 'string' ? url : undefined,
    });
    if (await faults.play(res)) return;
    if (!form) return send(res, 400, failure('argument_error', 21, 'expected multipart/form-data'));
    if (form.get('api_user') !== apiUser || form.get('api_secret') !== apiSecret) {
      return send(res, 401, failure('argument_error', 1, 'Incorrect API user or API secret'));
    }
    if (!(media instanceof Blob) && typeof url !== 'string') {
      return send(res, 400, failure('argument_error', 11, 'Missing media or url'));
    }
    const unknown = models.filter((m) => !(m in templates));
    if (models.length === 0 || unknown.length > 0) {
      return send(res, 400, failure('argument_error', 3, `Unknown models: ${unknown.join(',') || '(none)'}`));
    }
    const reply: Record<string, unknown> = { status: 'success', request: requestInfo(models.length) };
    for (const model of models) {
      const template = templates[model];
      if (template) reply[template.key] = template.build();
    }
    if (media instanceof Blob) applyMarkers(reply, Buffer.from(await media.arrayBuffer()).toString('latin1'));
    reply.media = { id: `med_${randomBytes(8).toString('hex')}`, uri: typeof url === 'string' ? url : null };
    send(res, 200, reply);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: Error) => send(res, 500, failure('unknown_error', 0, error.message)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/1.0`,
    apiUser,
    apiSecret,
    get calls() {
      return requests.length;
    },
    requests,
    fail: (...list) => faults.push(...list),
    video: video.api,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const low = 0.01;
const classes = (...names: string[]) => Object.fromEntries(names.map((name) => [name, low]));

/** Reply sections per model, shaped as Sightengine documents them (nudity-2.1, weapon, gore-2.0). */
const templates: Record<string, { key: string; build: () => Record<string, unknown> }> = {
  'nudity-2.1': {
    key: 'nudity',
    build: () => ({
      ...classes(
        'sexual_activity',
        'sexual_display',
        'erotica',
        'very_suggestive',
        'suggestive',
        'mildly_suggestive',
      ),
      suggestive_classes: {
        ...classes(
          'bikini',
          'cleavage',
          'lingerie',
          'male_chest',
          'male_underwear',
          'miniskirt',
          'minishort',
        ),
        ...classes(
          'nudity_art',
          'schematic',
          'sextoy',
          'suggestive_focus',
          'suggestive_pose',
          'swimwear_male',
        ),
        ...classes('swimwear_one_piece', 'visibly_undressed', 'other'),
        cleavage_categories: { very_revealing: low, revealing: low, none: 0.99 },
        male_chest_categories: { very_revealing: low, revealing: low, slightly_revealing: low, none: 0.99 },
      },
      none: 0.97,
      context: { sea_lake_pool: low, outdoor_other: 0.8, indoor_other: 0.19 },
    }),
  },
  weapon: {
    key: 'weapon',
    build: () => ({
      classes: classes('firearm', 'firearm_gesture', 'firearm_toy', 'knife'),
      firearm_type: { animated: low },
      firearm_action: classes(
        'aiming_threat',
        'aiming_camera',
        'aiming_safe',
        'in_hand_not_aiming',
        'worn_not_in_hand',
        'not_worn',
      ),
    }),
  },
  'gore-2.0': {
    key: 'gore',
    build: () => ({
      prob: low,
      classes: classes(
        'very_bloody',
        'slightly_bloody',
        'body_organ',
        'serious_injury',
        'superficial_injury',
        'corpse',
      ),
      type: classes('animated', 'fake', 'real'),
    }),
  },
};

function applyMarkers(reply: Record<string, unknown>, text: string): void {
  for (const match of text.matchAll(/sightengine-double:([\w.-]+)=([\d.]+);/g)) {
    applyScore(reply, match[1] ?? '', Number(match[2]));
  }
}

function applyScore(reply: Record<string, unknown>, dotted: string, score: number): void {
  const path = dotted.split('.');
  let node = reply;
  for (const key of path.slice(0, -1)) {
    if (!node[key] || typeof node[key] !== 'object') node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path.at(-1) ?? ''] = score;
}

/** One video frame's model sections, low everywhere but the scores asked for. */
function videoFrame(scores: Record<string, number>): Record<string, unknown> {
  const frame: Record<string, unknown> = {};
  for (const template of Object.values(templates)) frame[template.key] = template.build();
  for (const [path, score] of Object.entries(scores)) applyScore(frame, path, score);
  return frame;
}

function requestInfo(operations: number) {
  return { id: `req_${randomBytes(8).toString('hex')}`, timestamp: Date.now() / 1000, operations };
}

function failure(type: string, code: number, message: string) {
  return { status: 'failure', request: requestInfo(0), error: { type, code, message } };
}

async function readForm(req: IncomingMessage): Promise<FormData | undefined> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const type = req.headers['content-type'] ?? '';
  if (!type.startsWith('multipart/form-data')) return undefined;
  // undici's multipart parser, the same one fetch uses, reads the form as a real server would.
  return new Response(Buffer.concat(chunks), { headers: { 'content-type': type } })
    .formData()
    .catch(() => undefined);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
