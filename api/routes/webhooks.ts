import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../contracts/errors.ts';
import { Problem } from '../../contracts/problem.ts';
import { ModerationWebhookBody } from '../../contracts/webhooks.ts';
import { signatureHeader, verifyWebhook } from '../../platform/webhooks/signature.ts';
import { applyWebhookVerdict } from '../moderation/apply-webhook-verdict.ts';
import type { RouteDeps } from './route-deps.ts';
import { sightengineCallbackRoutes } from './sightengine-callback.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The raw body whose signature was verified. */
    signedBody?: Buffer;
  }
}

/**
 * Vendor webhooks. The signature covers the exact bytes received, so the HMAC is checked on the raw body
 * before anything reads it: unsigned traffic learns nothing about the body's shape, not even whether it
 * is JSON.
 */
export async function webhookRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const { ctx } = deps;
  // Its own scope, registered before the HMAC body parser below: the vendor authenticates by URL token.
  await app.register(sightengineCallbackRoutes, deps);
  const authenticate = (request: FastifyRequest, rawBody: Buffer) => {
    const secret = ctx.config.moderation.webhookSecret;
    if (!secret)
      throw new AppError('webhook_signature_invalid', 'Webhooks are not configured on this server');
    const check = verifyWebhook({ secret, signatureHeader: request.headers[signatureHeader], rawBody });
    if (!check.ok) throw new AppError('webhook_signature_invalid', `Signature ${check.reason}`);
    request.signedBody = rawBody;
  };
  // The server's JSON parser (request-body.ts) parses text; a signature is checked over the raw bytes.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, raw, done) => {
    try {
      authenticate(request, raw as Buffer);
      done(null, JSON.parse((raw as Buffer).toString('utf8')));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  typed.post(
    '/v1/webhooks/moderation',
    {
      schema: {
        tags: ['webhooks'],
        summary:
          'Moderation verdicts (HMAC-SHA256 over `t.body` in X-Mediagate-Signature, 5-minute tolerance)',
        security: [],
        body: ModerationWebhookBody,
        response: {
          200: Type.Object({
            outcome: Type.Union([
              Type.Literal('applied'),
              Type.Literal('duplicate'),
              Type.Literal('ignored'),
            ]),
          }),
          400: Problem,
          401: Problem,
          404: Problem,
          409: Problem,
        },
      },
      // A request without a body never reached the parser: it is judged as signing nothing.
      preValidation: async (request) => {
        if (!request.signedBody) authenticate(request, Buffer.alloc(0));
      },
    },
    async (request) => {
      const outcome = await applyWebhookVerdict(ctx, request.body);
      request.log.info(
        { vendor: request.body.vendor, eventId: request.body.eventId, outcome },
        'moderation webhook',
      );
      return { outcome };
    },
  );
}
