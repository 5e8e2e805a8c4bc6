import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../contracts/errors.ts';
import { Problem } from '../../contracts/problem.ts';
import { SightengineCallbackBody, SightengineCallbackParams } from '../../contracts/webhooks.ts';
import { asyncVideoModeration } from '../../platform/moderation/async-video.ts';
import { type CallbackClaim, verifyCallbackToken } from '../../platform/moderation/callback-token.ts';
import { settleVideoJob } from '../moderation/settle-video-job.ts';
import type { RouteDeps } from './route-deps.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The media and job a verified callback token names. */
    callbackClaim?: CallbackClaim;
  }
}

/** A long video's callbacks carry every frame's scores; the body is read only after the token checks out. */
const callbackBodyLimit = 16 * 1024 * 1024;

/**
 * Sightengine's video callbacks, in its own format. The token in the URL is checked before the body is
 * read (a forged or unknown one learns nothing and touches nothing); `ongoing` progress is acknowledged
 * and ignored; anything else makes the API read the job from Sightengine's status endpoint and settle it.
 */
export async function sightengineCallbackRoutes(app: FastifyInstance, { ctx }: RouteDeps): Promise<void> {
  const video = asyncVideoModeration(ctx.config.moderation);
  const authenticate = (request: FastifyRequest) => {
    const { token } = (request.params ?? {}) as { token?: string };
    const claim = video && token ? verifyCallbackToken(video.secret, token) : undefined;
    if (!claim) throw new AppError('webhook_token_invalid', 'Unknown callback token');
    request.callbackClaim = claim;
  };
  app.withTypeProvider<TypeBoxTypeProvider>().post(
    '/v1/webhooks/moderation/sightengine/:token',
    {
      bodyLimit: callbackBodyLimit,
      schema: {
        tags: ['webhooks'],
        summary: "Sightengine video moderation callbacks (the job's secret token is in the URL)",
        security: [],
        params: SightengineCallbackParams,
        body: SightengineCallbackBody,
        response: {
          200: Type.Object({
            outcome: Type.Union([
              Type.Literal('applied'),
              Type.Literal('ignored'),
              Type.Literal('pending'),
              Type.Literal('resubmitted'),
            ]),
          }),
          400: Problem,
          401: Problem,
          404: Problem,
          409: Problem,
          503: Problem,
        },
      },
      // Before the body is read: a forged token costs no upload, and learns nothing about the body's shape.
      preParsing: async (request, _reply, payload) => {
        authenticate(request);
        return payload;
      },
    },
    async (request) => {
      const claim = request.callbackClaim as CallbackClaim;
      const status = request.body.data.status;
      const outcome =
        status === 'ongoing' || !video
          ? 'pending'
          : await settleVideoJob(ctx, video, { ...claim, vendorMediaId: request.body.media.id });
      request.log.info({ mediaId: claim.mediaId, vendorStatus: status, outcome }, 'sightengine callback');
      return { outcome };
    },
  );
}
