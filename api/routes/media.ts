import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { MediaList, MediaListQuery, MediaParams, MediaView, UpdateMediaBody } from '../../contracts/media.ts';
import { Problem } from '../../contracts/problem.ts';
import { deleteMedia } from '../media/delete-media.ts';
import { getMedia, listOwnMedia } from '../media/read-media.ts';
import { updateMedia } from '../media/update-media.ts';
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

  typed.patch(
    '/v1/media/:mediaId',
    {
      schema: {
        tags: ['media'],
        summary: 'Reorder (gapless, a video stays in slot 0) or change visibility',
        params: MediaParams,
        body: UpdateMediaBody,
        response: { 200: MediaView, 400: Problem, 401: Problem, 404: Problem },
      },
    },
    async (request) => updateMedia(ctx, await caller(request), request.params.mediaId, request.body),
  );

  typed.delete(
    '/v1/media/:mediaId',
    {
      schema: {
        tags: ['media'],
        summary: 'Delete; shared storage objects stay while another media references them',
        params: MediaParams,
        response: { 204: Type.Null(), 400: Problem, 401: Problem, 404: Problem, 409: Problem },
      },
    },
    async (request, reply) => {
      await deleteMedia(ctx, await caller(request), request.params.mediaId);
      return reply.status(204).send(null);
    },
  );
}
