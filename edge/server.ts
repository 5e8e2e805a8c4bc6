import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import { AppError } from '../contracts/errors.ts';
import type { VerifyToken } from '../platform/auth/jwt.ts';
import { signUrlToken } from '../platform/auth/url-token.ts';
import type { Config } from '../platform/config.ts';
import { type Readiness, readinessResponse } from '../platform/health/readiness.ts';
import { bearerToken } from '../platform/http/authenticate.ts';
import { installProblemHandlers, problemOf, sendProblem } from '../platform/http/problem.ts';
import { serverOptions } from '../platform/http/server-options.ts';
import { installValidators } from '../platform/http/validators.ts';
import type { Logger } from '../platform/logger.ts';
import { instrumentEdgeReads } from '../platform/metrics/edge.ts';
import { countDatabaseOutages } from '../platform/metrics/http-outages.ts';
import type { ObjectStorage } from '../platform/storage/object-storage.ts';
import { avifNegotiation } from './avif-negotiation.ts';
import { cachedUrlGrants, cachedViewers } from './credentials.ts';
import { decideAccess } from './object-access.ts';
import { hlsMasterKey, isPlayback, isPlaylist, rewritePlaylist } from './playlist.ts';
import { proxyObject } from './proxy-object.ts';
import { cachedReferences } from './reference-cache.ts';
import { reusedSignedUrls } from './signed-urls.ts';

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
 * storage URL (private). The edge streams bytes only for video and audio renditions and HLS segments
 * asked for with `Authorization` (players resend it after a redirect, which storage refuses): every
 * other read scales with requests, not with megabytes.
 */
export async function buildEdgeServer(deps: EdgeDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // A read is a redirect; logging each one would cost more than answering it. (A route log level would
    // not do: it makes every request's child logger rebuild its log methods.)
    disableRequestLogging: true,
    // Nor does a read get a child logger of its own (pino serializes the request id into every child): the
    // edge logs only failures, and those carry the request's method and URL.
    childLoggerFactory: (logger) => logger,
    ...serverOptions(deps.config.httpRequestTimeoutMs),
    frameworkErrors: (error, _request, reply) =>
      sendProblem(reply, problemOf('object_not_found', error.message)),
  });
  installProblemHandlers(app);
  installValidators(app);
  const { config } = deps;
  const ttlMs = config.edge.cacheTtlMs;
  const references = cachedReferences(deps.pool, ttlMs);
  const negotiate = avifNegotiation(references);
  const viewerOf = cachedViewers(deps.verify, { ttlMs });
  const secret = config.auth.urlSigningSecret;
  const grantOf = secret ? cachedUrlGrants(secret, { ttlMs }) : undefined;
  const signedUrlOf = reusedSignedUrls(deps.storage, config.edge.signedUrlTtlSeconds);
  // A cached redirect is a cached access decision: browsers and shared caches (a CDN in front of the edge)
  // may keep one no longer than the edge keeps its own, or a revocation would wait for them.
  const redirectMaxAge = Math.floor(ttlMs / 1000);
  const publicCacheControl = `public, max-age=${redirectMaxAge}`;

  countDatabaseOutages(app, deps.registry, 'edge');
  instrumentEdgeReads(app, deps.registry);
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const { statusCode, body } = await readinessResponse(deps.readiness);
    return reply.status(statusCode).send(body);
  });

  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  typed.get('/m/*', { schema: { params: EdgeParams, querystring: EdgeQuery } }, async (request, reply) => {
    const key = request.params['*'];
    if (!isKeyShaped(key)) return sendProblem(reply, refusals.unknown);
    const token = request.query.token;
    const grant = token !== undefined && grantOf ? grantOf(token, key) : undefined;
    const bearer = bearerToken(request);
    const viewer = bearer === undefined ? undefined : await viewerOf(bearer);
    const refs = await references(hlsMasterKey(key) ?? key);
    const decision = decideAccess(refs, viewer, grant !== undefined);
    if (decision === 'public') {
      if (isPlaylist(key)) return answerPlaylist(deps, reply, key, undefined);
      if (config.cdnBaseUrl) {
        const served = await negotiate(key, request.headers.accept);
        if (served.varies) reply.header('vary', 'Accept');
        return reply
          .header('cache-control', publicCacheControl)
          .redirect(`${config.cdnBaseUrl}/${served.key}`, 302);
      }
    } else if (decision === 'private') {
      if (isPlaylist(key)) return answerPlaylist(deps, reply, key, viewer?.sub ?? grant?.sub ?? 'anonymous');
    } else {
      return sendProblem(reply, refusals[decision]);
    }
    const served = await negotiate(key, request.headers.accept);
    if (served.varies) reply.header('vary', 'Accept');
    // A player that sends its header on every request would carry it to the signed URL, which refuses it.
    if (request.headers.authorization !== undefined && isPlayback(served.key))
      return proxyObject(deps.storage, served.key, request, reply);
    const signed = await signedUrlOf(served.key);
    // The redirect is cached no longer than the URL it names stays valid (less a margin for clock skew).
    const maxAge = Math.max(
      0,
      Math.min(redirectMaxAge, Math.floor((signed.expiresAt - Date.now()) / 1000) - 30),
    );
    return reply.header('cache-control', `private, max-age=${maxAge}`).redirect(signed.url, 302);
  });
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

/** The answers to reads the edge refuses, made once: refusing is as hot a path as redirecting. */
const refusals = {
  unknown: problemOf('object_not_found', 'No such object'),
  gone: problemOf('gone', 'The media was deleted or taken down'),
  login: problemOf('unauthenticated', 'Send a bearer token or use a signed URL'),
  denied: problemOf('forbidden', 'You may not read this object'),
} as const;

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
