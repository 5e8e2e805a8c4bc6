import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultQueue } from './faults.ts';

/**
 * Sightengine's asynchronous video API, for the Sightengine double: POST /1.0/video/check.json (multipart:
 * stream_url | media, models, callback_url, api_user, api_secret) answers `{status:'success', request,
 * media:{id, uri}, callback}` at once; then, like the vendor, it downloads the video from stream_url, scores
 * three frames and POSTs `{media, request, data:{status, frames, …}}` to callback_url as many times as the
 * job's plan says (0 = never). GET /1.0/video/byid.json?id= answers `{status:'success', request, output:
 * {media, request, data}}`, which is what the API must trust.
 */
export interface VideoPlan {
  /** Scores of the worst frame, as paths in the reply's shape: {'gore.prob': 0.93}. */
  scores?: Record<string, number>;
  /** Finished callbacks sent (a vendor retrying sends more than one); 0 = the callback never comes. */
  callbacks?: number;
  /** An `ongoing` progress callback first. */
  ongoing?: boolean;
  /** The job stays `ongoing` (at the status endpoint too) until this settles. */
  hold?: Promise<unknown>;
  /** The vendor fails the job (`failure`, as when it cannot read the video) after downloading it. */
  fail?: boolean;
}

export interface VideoJobRecord {
  id: string;
  streamUrl: string;
  callbackUrl: string;
  /** What the download of stream_url answered, and how many bytes came. */
  fetchStatus?: number;
  fetchedBytes?: number;
  status: 'ongoing' | 'finished' | 'failure';
  /** The API's answers to each callback. */
  callbacks: { sent: string; status: number; body: unknown }[];
  statusQueries: number;
}

export interface SightengineVideoJobs {
  readonly jobs: VideoJobRecord[];
  /** Plans for the next submissions, in order; without one a job is clean and calls back once. */
  plan(...plans: VideoPlan[]): void;
  /** Resolves when every job submitted so far has downloaded, scored and made its callbacks (held ones too). */
  settled(): Promise<void>;
}

const callbackAttempts = 4;

type Frame = (scores: Record<string, number>) => Record<string, unknown>;
type Send = (res: ServerResponse, status: number, body: unknown) => void;
type Credentials = { apiUser: string; apiSecret: string };

/** `faults` are the double's own: a submission plays the next one queued, like an image check does. */
export function videoJobs(credentials: Credentials, frame: Frame, send: Send, faults: FaultQueue) {
  const jobs: VideoJobRecord[] = [];
  const plans: VideoPlan[] = [];
  const running: Promise<void>[] = [];
  const reply = (job: VideoJobRecord, frames: Record<string, unknown>[]) => ({
    media: { id: job.id, uri: job.streamUrl },
    request: `req_${job.id}`,
    data: {
      status: job.status,
      started: Date.now() / 1000,
      last_update: Date.now() / 1000,
      operations: frames.length,
      frames,
      ...(job.status === 'failure' ? { error: { type: 'media_error', message: 'could not read' } } : {}),
    },
  });
  const framesOf = new Map<string, Record<string, unknown>[]>();

  const run = async (job: VideoJobRecord, plan: VideoPlan) => {
    const download = await fetch(job.streamUrl).catch(() => undefined);
    const bytes = download?.ok ? Buffer.from(await download.arrayBuffer()) : undefined;
    job.fetchStatus = download?.status ?? 0;
    job.fetchedBytes = bytes?.length ?? 0;
    const frames = bytes
      ? [0, 1, 2].map((i) => ({
          info: { id: `${job.id}_${i}`, position: i * 4000 },
          ...frame(i === 1 ? (plan.scores ?? {}) : {}),
        }))
      : [];
    // Like the vendor, a callback the receiver did not take (409: the job not recorded yet, 5xx, no answer)
    // is tried again a few times; the last answer is what is recorded.
    const post = async (body: unknown, sent: string) => {
      for (let attempt = 1; ; attempt++) {
        const answer = await fetch(job.callbackUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        }).catch(() => undefined);
        const status = answer?.status ?? 0;
        const retry = status === 0 || status === 409 || status >= 500;
        if (!retry || attempt === callbackAttempts) {
          job.callbacks.push({ sent, status, body: await answer?.json().catch(() => null) });
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    };
    if (plan.ongoing) await post(reply(job, frames.slice(0, 1)), 'ongoing');
    await plan.hold;
    job.status = bytes && !plan.fail ? 'finished' : 'failure';
    framesOf.set(job.id, frames);
    for (let i = 0; i < (plan.callbacks ?? 1); i++) await post(reply(job, frames), job.status);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, form: FormData | undefined) => {
    const url = new URL(req.url ?? '/', 'http://double');
    if (req.method === 'GET' && url.pathname === '/1.0/video/byid.json') {
      if (!authorised(url.searchParams.get('api_user'), url.searchParams.get('api_secret'))) {
        return send(res, 401, failure('argument_error', 'Incorrect API user or API secret'));
      }
      const job = jobs.find((j) => j.id === url.searchParams.get('id'));
      if (!job) return send(res, 404, failure('argument_error', 'unknown media id'));
      job.statusQueries++;
      return send(res, 200, {
        status: 'success',
        request: { id: `req_${randomBytes(6).toString('hex')}` },
        output: reply(job, framesOf.get(job.id) ?? []),
      });
    }
    if (req.method !== 'POST' || url.pathname !== '/1.0/video/check.json') {
      return send(res, 404, failure('request_error', 'unknown endpoint'));
    }
    if (await faults.play(res)) return;
    if (!form || !authorised(form.get('api_user'), form.get('api_secret'))) {
      return send(res, 401, failure('argument_error', 'Incorrect API user or API secret'));
    }
    const streamUrl = form.get('stream_url');
    const callbackUrl = form.get('callback_url');
    if (typeof streamUrl !== 'string' || typeof callbackUrl !== 'string' || !form.get('models')) {
      return send(res, 400, failure('argument_error', 'Missing stream_url, callback_url or models'));
    }
    const job: VideoJobRecord = {
      id: `med_${randomBytes(8).toString('hex')}`,
      streamUrl,
      callbackUrl,
      status: 'ongoing',
      callbacks: [],
      statusQueries: 0,
    };
    jobs.push(job);
    send(res, 200, {
      status: 'success',
      request: { id: `req_${randomBytes(6).toString('hex')}`, timestamp: Date.now() / 1000, operations: 0 },
      media: { id: job.id, uri: streamUrl },
      callback: callbackUrl,
    });
    // After the answer, as the vendor does: the API has recorded the job by the time callbacks come.
    const plan = plans.shift() ?? {};
    running.push(new Promise((resolve) => setTimeout(resolve, 50)).then(() => run(job, plan)));
  };

  const authorised = (user: unknown, secret: unknown) =>
    user === credentials.apiUser && secret === credentials.apiSecret;

  const api: SightengineVideoJobs = {
    jobs,
    plan: (...list) => plans.push(...list),
    settled: async () => {
      await Promise.all(running);
    },
  };
  return { handle, api };
}

function failure(type: string, message: string) {
  return {
    status: 'failure',
    request: { id: `req_${randomBytes(6).toString('hex')}` },
    error: { type, message },
  };
}
