import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { MediaView } from '../../contracts/media.ts';
import { Problem } from '../../contracts/problem.ts';
import {
  CompleteUploadBody,
  CreateUploadBody,
  DeduplicatedUpload,
  PartNumbersBody,
  PartUrls,
  UploadParams,
  UploadSession,
  UploadState,
} from '../../contracts/uploads.ts';
import { toMediaView } from '../media/view.ts';
import { abortUpload } from '../uploads/abort-upload.ts';
import { completeUpload } from '../uploads/complete-upload.ts';
import { createUpload } from '../uploads/create-upload.ts';
import { getUploadState, refreshPartUrls } from '../uploads/upload-state.ts';
import type { RouteDeps } from './route-deps.ts';

const errors = { 400: Problem, 401: Problem, 404: Problem, 409: Problem, 410: Problem };

export async function uploadRoutes(
  app: FastifyInstance,
  { ctx, caller, createLimit }: RouteDeps,
): Promise<void> {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  typed.post(
    '/v1/uploads',
    {
      config: { rateLimit: createLimit },
      schema: {
        tags: ['uploads'],
        summary:
          'Start an upload: presigned part URLs (201), or an instant copy of identical own media (200)',
        body: CreateUploadBody,
        response: {
          200: DeduplicatedUpload,
          201: UploadSession,
          ...errors,
          413: Problem,
          415: Problem,
          429: Problem,
        },
      },
    },
    async (request, reply) => {
      const outcome = await createUpload(ctx, await caller(request), request.body);
      if ('deduplicated' in outcome) return reply.status(200).send(outcome);
      return reply.status(201).send(outcome);
    },
  );

  typed.post(
    '/v1/uploads/:uploadId/parts',
    {
      schema: {
        tags: ['uploads'],
        summary: 'Fresh part URLs, to resume',
        params: UploadParams,
        body: PartNumbersBody,
        response: { 200: PartUrls, ...errors },
      },
    },
    async (request) => {
      const { uploadId } = request.params;
      const { partNumbers } = request.body;
      return refreshPartUrls(ctx, await caller(request), uploadId, partNumbers);
    },
  );

  typed.get(
    '/v1/uploads/:uploadId',
    {
      schema: {
        tags: ['uploads'],
        summary: 'Session state and the parts storage already holds',
        params: UploadParams,
        response: { 200: UploadState, ...errors },
      },
    },
    async (request) => getUploadState(ctx, await caller(request), request.params.uploadId),
  );

  typed.post(
    '/v1/uploads/:uploadId/complete',
    {
      schema: {
        tags: ['uploads'],
        summary: 'Assemble the parts and run the gate',
        params: UploadParams,
        body: Type.Optional(CompleteUploadBody),
        response: { 202: MediaView, ...errors, 415: Problem, 422: Problem, 503: Problem },
      },
    },
    async (request, reply) => {
      const principal = await caller(request);
      const { uploadId } = request.params;
      const { media, variants } = await completeUpload(ctx, principal, uploadId, request.body ?? {});
      return reply.status(202).send(toMediaView(ctx.config, principal, media, variants));
    },
  );

  typed.delete(
    '/v1/uploads/:uploadId',
    {
      schema: {
        tags: ['uploads'],
        summary: 'Abort the upload and free its parts',
        params: UploadParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await abortUpload(ctx, await caller(request), request.params.uploadId);
      return reply.status(204).send(null);
    },
  );
}
