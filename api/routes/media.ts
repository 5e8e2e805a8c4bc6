import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { MediaList, MediaListQuery, MediaParams, MediaView } from '../../contracts/media.ts';
import { Problem } from '../../contracts/problem.ts';
import { getMedia, listOwnMedia } from '../media/read-media.ts';
import type { RouteDeps } from './route-deps.ts';

export async function mediaRoutes(app: FastifyInstance, { ctx, caller }: RouteDeps): Promise<void> {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  typed.get(
    '/v1/media/:mediaId',
    {
      schema: {
        tags: ['media'],
        summary: 'One media: status, edge URLs, variants, placeholder, metadata (owner only)',
        params: MediaParams,
        response: { 200: MediaView, 400: Problem, 401: Problem, 404: Problem },
      },
    },
    async (request) => getMedia(ctx, await caller(request), request.params.mediaId),
  );

  typed.get(
    '/v1/media',
    {
      schema: {
        tags: ['media'],
        summary: "The caller's gallery, ordered by position",
        querystring: MediaListQuery,
        response: { 200: MediaList, 400: Problem, 401: Problem },
      },
    },
    async (request) => {
      return listOwnMedia(ctx, await caller(request), request.query);
    },
  );
}
