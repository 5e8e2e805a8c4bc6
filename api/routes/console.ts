import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { consoleAssets } from '../../console/build.ts';
import { AppError } from '../../contracts/errors.ts';
import { topics } from '../../contracts/events.ts';
import { Problem } from '../../contracts/problem.ts';
import { signDevToken } from '../../platform/auth/jwt.ts';
import type { Config } from '../../platform/config.ts';
import { isLoopbackCaller } from './loopback-caller.ts';

/**
 * The page talks to the API, the edge and storage (its own origin, other ports or hosts); scripts and
 * styles come only from here. Uppy sets inline styles, hence 'unsafe-inline' for styles alone.
 */
const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  'img-src * data: blob:',
  'media-src * blob:',
  'connect-src *',
  "worker-src 'self' blob:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

const AssetParams = Type.Object({ file: Type.String({ pattern: '^[A-Za-z0-9._-]{1,100}$' }) });
const DevTokenBody = Type.Object(
  {
    sub: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9._@-]+$' }),
    admin: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

function secure(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', contentSecurityPolicy)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer');
}

/** The web console's static assets under /console, and its settings; the page itself calls only /v1. */
export async function consoleRoutes(app: FastifyInstance, { config }: { config: Config }): Promise<void> {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  typed.get('/console', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/console/'));

  typed.get('/console/', { schema: { hide: true } }, async (_request, reply) => {
    const page = (await consoleAssets()).get('index.html');
    return secure(reply)
      .type(page?.contentType ?? 'text/html')
      .header('cache-control', 'no-cache')
      .send(page?.body);
  });

  typed.get('/console/settings.json', { schema: { hide: true } }, async () => ({
    partSizeBytes: config.uploads.partSizeBytes,
    devSignIn: config.consoleDevSignIn,
    topics: Object.values(topics),
  }));

  typed.get(
    '/console/:file',
    { schema: { hide: true, params: AssetParams, response: { 404: Problem } } },
    async (request, reply) => {
      const asset = (await consoleAssets()).get(request.params.file);
      if (!asset || request.params.file === 'index.html')
        throw new AppError('not_found', 'No such console file');
      return secure(reply)
        .type(asset.contentType)
        .header('cache-control', asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
        .send(asset.body);
    },
  );

  // Registered only on `mediagate dev`: anywhere else the route does not exist (404).
  if (!config.consoleDevSignIn || !config.auth.jwtSecret) return;
  const secret = config.auth.jwtSecret;
  typed.post(
    '/console/dev-token',
    {
      schema: {
        tags: ['console'],
        summary: 'Dev only (mediagate dev): a 12-hour token for any subject, for the console sign-in',
        body: DevTokenBody,
        response: { 200: Type.Object({ token: Type.String() }), 400: Problem, 403: Problem },
      },
      // Before the body is read: a caller from elsewhere learns nothing about it.
      onRequest: async (request) => {
        if (!isLoopbackCaller(request, config.apiPort)) {
          throw new AppError(
            'forbidden',
            'The dev sign-in answers only pages served from this loopback address',
          );
        }
      },
    },
    async (request) => ({
      token: signDevToken(
        secret,
        { sub: request.body.sub, roles: request.body.admin ? ['admin'] : [] },
        12 * 3600,
      ),
    }),
  );
}
