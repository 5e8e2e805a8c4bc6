import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import { AppError } from '../contracts/errors.ts';
import { AuthError, isAdmin, type VerifyToken } from '../platform/auth/jwt.ts';
import { signUrlToken, verifyUrlToken } from '../platform/auth/url-token.ts';
import type { Config } from '../platform/config.ts';
import { type Readiness, readinessResponse } from '../platform/health/readiness.ts';
import { bearerToken } from '../platform/http/authenticate.ts';
import { installProblemHandlers, problemOf, sendProblem } from '../platform/http/problem.ts';
import { requestTimeouts } from '../platform/http/timeouts.ts';
import { installValidators } from '../platform/http/validators.ts';
import type { Logger } from '../platform/logger.ts';
import { instrumentEdgeReads } from '../platform/metrics/edge.ts';
import { countDatabaseOutages } from '../platform/metrics/http-outages.ts';
import type { ObjectStorage } from '../platform/storage/object-storage.ts';
import { cachedReferences, decideAccess } from './object-access.ts';
import { hlsMasterKey, isPlaylist, rewritePlaylist } from './playlist.ts';

export interface EdgeDeps {
  config: Config;
  pool: pg.Pool;
  storage: ObjectStorage;
  verify: VerifyToken;
  logger: Logger;
  /** `/readyz`; the role (cli/roles.ts) fills it with the database and storage probes. */
  readiness: Readiness;
  registry: Registry;
}

/**
 * `GET /m/{objectKey}`: authenticate, authorize, then 302 to the CDN (public) or to a short-lived signed
 * storage URL (private). The edge never streams bytes, so it scales with requests, not with megabytes.
 */
export async function buildEdgeServer(deps: EdgeDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    ...requestTimeouts(deps.config.httpRequestTimeoutMs),
    frameworkErrors: (error, _request, reply) =>
      sendProblem(reply, problemOf('object_not_found', error.message)),
  });
  installProblemHandlers(app);
  installValidators(app);
  const references = cachedReferences(deps.pool, deps.config.edge.cacheTtlMs);
  const { config } = deps;

  countDatabaseOutages(app, deps.registry, 'edge');
  instrumentEdgeReads(app, deps.registry);
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const { statusCode, body } = await readinessResponse(deps.readiness);
    return reply.status(statusCode).send(body);
  });

  // A read is a redirect; logging each one would cost more than answering it.
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  typed.get(
    '/m/*',
    { logLevel: 'warn', schema: { params: EdgeParams, querystring: EdgeQuery } },
    async (request, reply) => {
      const key = request.params['*'];
      if (!isKeyShaped(key)) throw new AppError('object_not_found', 'No such object');
      const token = request.query.token;
      const tokenCheck =
        token && config.auth.urlSigningSecret
          ? verifyUrlToken(config.auth.urlSigningSecret, token, key, Math.floor(Date.now() / 1000))
          : undefined;
      if (tokenCheck && !tokenCheck.ok) {
        throw new AppError(
          tokenCheck.reason === 'expired' ? 'token_expired' : 'forbidden',
          `URL token ${tokenCheck.reason}`,
        );
      }
      const viewer = await optionalViewer(deps.verify, bearerToken(request));
      const decision = decideAccess(
        await references(hlsMasterKey(key) ?? key),
        viewer,
        tokenCheck?.ok === true,
      );

      switch (decision) {
        case 'unknown':
          throw new AppError('object_not_found', 'No such object');
        case 'gone':
          throw new AppError('gone', 'The media was deleted or taken down');
        case 'login':
          throw new AppError('unauthenticated', 'Send a bearer token or use a signed URL');
        case 'denied':
          throw new AppError('forbidden', 'You may not read this object');
        case 'public':
          if (isPlaylist(key)) return answerPlaylist(deps, reply, key, undefined);
          if (config.cdnBaseUrl) {
            return reply
              .header('cache-control', 'public, max-age=300')
              .redirect(`${config.cdnBaseUrl}/${key}`, 302);
          }
          break;
        case 'private':
          if (isPlaylist(key)) {
            const sub = viewer?.sub ?? (tokenCheck?.ok ? tokenCheck.grant.sub : 'anonymous');
            return answerPlaylist(deps, reply, key, sub);
          }
          break;
      }
      const ttl = config.edge.signedUrlTtlSeconds;
      const target = await deps.storage.presignGet(key, ttl, 'public');
      return reply.header('cache-control', `private, max-age=${Math.max(0, ttl - 30)}`).redirect(target, 302);
    },
  );
  return app;
}

/**
 * One `token`: a repeated parameter arrives as an array and fails here (400), instead of reaching code
 * that expects text. Other parameters (cache busters, player hints) are ignored.
 */
const EdgeParams = Type.Object({ '*': Type.String() });
const EdgeQuery = Type.Object({ token: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })) });

/**
 * Keys are server-made (`raw/…`, `derived/…`): letters, digits, `/ . _ -`. Anything else (NUL, spaces,
 * `..`, a megabyte of path) names no object, and never reaches the database or storage.
 */
const keyShape = /^(raw|derived)\/[A-Za-z0-9._\-/]{1,1000}$/;

function isKeyShaped(key: string | undefined): key is string {
  return key !== undefined && keyShape.test(key) && !key.includes('..');
}

const maxPlaylistBytes = 1024 * 1024;

/** Playlists are answered by the edge itself, their references rewritten to signed edge URLs. */
async function answerPlaylist(
  deps: EdgeDeps,
  reply: FastifyReply,
  key: string,
  privateViewer: string | undefined,
) {
  const { config } = deps;
  const head = await deps.storage.head(key);
  if (!head) throw new AppError('object_not_found', 'No such object');
  if (head.size > maxPlaylistBytes) throw new AppError('forbidden', 'Playlist too large');
  const body = (await deps.storage.readRange(key, 0, head.size - 1)).toString('utf8');
  const secret = config.auth.urlSigningSecret;
  const exp = Math.floor(Date.now() / 1000) + config.edge.viewTokenTtlSeconds;
  const urlFor = (target: string) => {
    const url = `${config.edgePublicUrl}/m/${target}`;
    if (!privateViewer || !secret) return url;
    return `${url}?token=${signUrlToken(secret, { key: target, sub: privateViewer, exp })}`;
  };
  return reply
    .type('application/vnd.apple.mpegurl')
    .header('cache-control', privateViewer ? 'private, max-age=60' : 'public, max-age=60')
    .send(rewritePlaylist(body, key, urlFor));
}

async function optionalViewer(verify: VerifyToken, token: string | undefined) {
  if (!token) return undefined;
  try {
    const principal = await verify(token);
    return { sub: principal.sub, admin: isAdmin(principal) };
  } catch (error) {
    if (error instanceof AuthError) throw new AppError(error.code, error.message);
    throw error;
  }
}
