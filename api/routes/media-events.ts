import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { MediaParams } from '../../contracts/media.ts';
import { LiveStatusQuery, LiveStatusToken } from '../../contracts/media-events.ts';
import { Problem } from '../../contracts/problem.ts';
import { liveStatusMetrics } from '../../platform/metrics/live-status.ts';
import type { Watcher } from '../media/live-status/access.ts';
import { watchableMedia } from '../media/live-status/access.ts';
import { parseCursor } from '../media/live-status/cursor.ts';
import { createLiveStatusHub } from '../media/live-status/hub.ts';
import { issueStreamToken, streamTokenWatcher } from '../media/live-status/stream-token.ts';
import type { RouteDeps } from './route-deps.ts';

/** The one route that may be called without an Authorization header: it takes `?token=` instead. */
export const liveStatusRoute = '/v1/media/:mediaId/events';

export async function mediaEventRoutes(
  app: FastifyInstance,
  { ctx, caller, registry }: RouteDeps & { registry: Registry },
): Promise<void> {
  const hub = createLiveStatusHub({ ...ctx, metrics: liveStatusMetrics(registry) });
  // Before the server waits for open requests to finish: a stream would hold shutdown for ever.
  app.addHook('preClose', async () => hub.close());
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  typed.get(
    liveStatusRoute,
    {
      // Fastify's automatic HEAD would open a stream nobody reads, holding a slot of the caller's limit.
      exposeHeadRoute: false,
      schema: {
        tags: ['media'],
        summary: 'Live status (Server-Sent Events) until ready, failed, rejected or deleted (owner or admin)',
        description:
          'text/event-stream. Resume with the Last-Event-ID header or ?lastEventId=; browsers authenticate with ?token= from POST …/events/token. 204 once the stream has nothing more to say.',
        params: MediaParams,
        querystring: LiveStatusQuery,
        response: {
          200: {
            description: 'the event stream: `id:`, `event:`, `data:` lines, `: ping` comments',
            content: { 'text/event-stream': { schema: Type.String() } },
          },
          204: Type.Null(),
          400: Problem,
          401: Problem,
          404: Problem,
          429: Problem,
          503: Problem,
        },
      },
    },
    async (request, reply) => {
      const { mediaId } = request.params;
      const watcher: Watcher = request.principal
        ? { principal: request.principal, by: 'bearer' }
        : streamTokenWatcher(ctx.config, request.query.token, mediaId);
      const header = request.headers['last-event-id'];
      const cursor = parseCursor(
        Array.isArray(header) ? header.join(',') : (header ?? request.query.lastEventId),
      );
      const stream = await hub.open(watcher, mediaId, cursor);
      if (!stream) return reply.status(204).send(null);
      return (
        reply
          .headers({
            'content-type': 'text/event-stream; charset=utf-8',
            'cache-control': 'no-store',
            // nginx and similar buffer responses by default; an event must reach the client at once.
            'x-accel-buffering': 'no',
          })
          // The schema describes the text; what is sent is the stream that produces it.
          .send(stream.body as unknown as string)
      );
    },
  );

  typed.post(
    `${liveStatusRoute}/token`,
    {
      schema: {
        tags: ['media'],
        summary: 'A stream token for browsers: EventSource cannot send an Authorization header',
        params: MediaParams,
        response: { 200: LiveStatusToken, 400: Problem, 401: Problem, 404: Problem },
      },
    },
    async (request) => {
      const principal = await caller(request);
      const row = await watchableMedia(ctx.db, { principal, by: 'bearer' }, request.params.mediaId);
      return issueStreamToken(ctx.config, principal.sub, row.id);
    },
  );
}
