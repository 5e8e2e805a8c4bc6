import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { MediaParams } from '../../contracts/media.ts';
import {
  DeadLetterList,
  DlqQuery,
  MediaObjects,
  MediaSearchQuery,
  MediaSearchResult,
  MediaTrace,
  OutboxList,
  OutboxQuery,
  RedriveBody,
  RedriveResult,
  ReplayBody,
  ReplayResult,
  StuckMediaList,
  StuckMediaQuery,
  Timeseries,
  TimeseriesQuery,
} from '../../contracts/ops.ts';
import { Problem } from '../../contracts/problem.ts';
import { listDeadLetters, redriveDeadLetters } from '../ops/dead-letters.ts';
import { mediaObjects } from '../ops/media-objects.ts';
import { searchMedia } from '../ops/media-search.ts';
import { listOutbox, replayOutbox } from '../ops/outbox-ops.ts';
import { listStuckMedia } from '../ops/stuck-media.ts';
import { funnelTimeseries } from '../ops/timeseries.ts';
import { traceMedia } from '../ops/trace.ts';
import { adminOnly, requireAdmin } from './require-admin.ts';
import type { RouteDeps } from './route-deps.ts';

const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem };

/** Operator routes: every one needs the `admin` role. */
export async function opsRoutes(app: FastifyInstance, { ctx, caller }: RouteDeps): Promise<void> {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  adminOnly(app, caller);
  const admin = (request: FastifyRequest) => requireAdmin(caller, request);

  typed.get(
    '/v1/ops/outbox',
    {
      schema: {
        tags: ['ops'],
        summary: 'Outbox rows and backlog',
        querystring: OutboxQuery,
        response: { 200: OutboxList, ...errors },
      },
    },
    async (request) => {
      return listOutbox(ctx.db, request.query);
    },
  );

  typed.post(
    '/v1/ops/outbox/replay',
    {
      schema: {
        tags: ['ops'],
        summary:
          'Replay events as new events (by ids, media id or time range); optimize requests are rebuilt from the media as it is now, retired media skipped',
        body: ReplayBody,
        response: { 200: ReplayResult, ...errors },
      },
    },
    async (request) => {
      const principal = await admin(request);
      const result = await replayOutbox(ctx, request.body);
      request.log.info(
        { actor: principal.sub, replayed: result.replayed.length, skipped: result.skipped.length },
        'outbox replay',
      );
      return result;
    },
  );

  typed.get(
    '/v1/ops/media/:mediaId/trace',
    {
      schema: {
        tags: ['ops'],
        summary: "One media's status history, events and outputs",
        params: MediaParams,
        response: { 200: MediaTrace, ...errors },
      },
    },
    async (request) => {
      return traceMedia(ctx.db, request.params.mediaId);
    },
  );

  typed.get(
    '/v1/ops/media/stuck',
    {
      schema: {
        tags: ['ops'],
        summary:
          'Media processing with no change for longer than STUCK_PROCESSING_AFTER_SECONDS, oldest first',
        querystring: StuckMediaQuery,
        response: { 200: StuckMediaList, ...errors },
      },
    },
    async (request) => {
      return listStuckMedia(ctx.db, ctx.config.stuckProcessingAfterSeconds, request.query);
    },
  );

  typed.get(
    '/v1/ops/dlq',
    {
      schema: {
        tags: ['ops'],
        summary: 'Dead letters of a topic not yet redriven, oldest first, with their errors',
        querystring: DlqQuery,
        response: { 200: DeadLetterList, ...errors },
      },
    },
    async (request) => {
      return listDeadLetters(ctx.deadLetters, request.query);
    },
  );

  typed.post(
    '/v1/ops/dlq/redrive',
    {
      schema: {
        tags: ['ops'],
        summary: 'Deliver dead letters again, with fresh attempts, to the group that gave up on them',
        body: RedriveBody,
        response: { 200: RedriveResult, ...errors },
      },
    },
    async (request) => {
      const principal = await admin(request);
      const result = await redriveDeadLetters(ctx, request.body);
      request.log.info({ actor: principal.sub, topic: request.body.topic, ...result }, 'dlq redrive');
      return result;
    },
  );

  typed.get(
    '/v1/ops/media',
    {
      schema: {
        tags: ['ops'],
        summary: 'Search media by id, owner, status, kind, failure code and creation time, newest first',
        querystring: MediaSearchQuery,
        response: { 200: MediaSearchResult, ...errors },
      },
    },
    async (request) => {
      return searchMedia(ctx.db, request.query);
    },
  );

  typed.get(
    '/v1/ops/stats/timeseries',
    {
      schema: {
        tags: ['ops'],
        summary:
          'The upload funnel (created, processing, ready, failed, rejected) and time to ready per bucket',
        querystring: TimeseriesQuery,
        response: { 200: Timeseries, ...errors },
      },
    },
    async (request) => {
      return funnelTimeseries(ctx.db, request.query);
    },
  );

  typed.get(
    '/v1/ops/media/:mediaId/objects',
    {
      schema: {
        tags: ['ops'],
        summary: "A media's storage keys with URLs an operator can open, and every media referencing each",
        params: MediaParams,
        response: { 200: MediaObjects, ...errors },
      },
    },
    async (request) => {
      const principal = await admin(request);
      return mediaObjects(ctx.db, ctx.config, principal.sub, request.params.mediaId);
    },
  );
}
