import { type Static, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type pg from 'pg';
import type { VerifyToken } from '../platform/auth/jwt.ts';
import type { UrlGrant } from '../platform/auth/url-token.ts';
import type { Config } from '../platform/config.ts';
import { bearerToken } from '../platform/http/authenticate.ts';
import { problemOf, sendProblem } from '../platform/http/problem.ts';
import type { ObjectStorage } from '../platform/storage/object-storage.ts';
import { avifNegotiation, type Negotiated } from './avif-negotiation.ts';
import { cachedUrlGrants, cachedViewers, type Viewer } from './credentials.ts';
import { type AccessDecision, decideAccess } from './object-access.ts';
import { hlsMasterKey, isPlayback, isPlaylist } from './playlist.ts';
import { proxyObject } from './proxy-object.ts';
import { cachedReferences, type KnownReferences } from './reference-cache.ts';
import { refusal, refuse } from './refusals.ts';
import { reusedSignedUrls, type SignedUrl } from './signed-urls.ts';

/**
 * One `token`: a repeated parameter arrives as an array and fails here (400), instead of reaching code
 * that expects text. Other parameters (cache busters, player hints) are ignored.
 */
export const EdgeQuery = Type.Object({
  token: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
});
// Checked in the handler rather than by Fastify's validation hook: the same contract, a few calls fewer.
const edgeQuery = TypeCompiler.Compile(EdgeQuery);

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
  unknown: refusal('object_not_found', 'No such object'),
  gone: refusal('gone', 'The media was deleted or taken down'),
  login: refusal('unauthenticated', 'Send a bearer token or use a signed URL'),
  denied: refusal('forbidden', 'You may not read this object'),
} as const;

export type PlaylistAnswer = (
  reply: FastifyReply,
  key: string,
  privateViewer: string | undefined,
  maxAgeSeconds: number,
) => Promise<unknown>;

export interface ReadDeps {
  config: Config;
  pool: pg.Pool;
  storage: ObjectStorage;
  verify: VerifyToken;
}

type EdgeRequest = FastifyRequest<{ Params: { '*': string }; Querystring: Static<typeof EdgeQuery> }>;

interface Read {
  request: EdgeRequest;
  reply: FastifyReply;
  key: string;
  viewer: Viewer | undefined;
  grant: UrlGrant | undefined;
}

/**
 * The `GET /m/*` handler: authenticate, authorize, answer. A read whose credentials, references and
 * signed URL are all in memory is answered synchronously — no promise, no microtask, nothing awaited —
 * and each step waits only when its own cache misses. The handler never returns the reply (Fastify would
 * treat it as a promise and wait for the response to finish).
 */
export function edgeReads(deps: ReadDeps, answerPlaylist: PlaylistAnswer) {
  const { config, storage } = deps;
  const ttlMs = config.edge.cacheTtlMs;
  const references = cachedReferences(deps.pool, ttlMs);
  const negotiate = avifNegotiation(references);
  const viewerOf = cachedViewers(deps.verify, { ttlMs });
  const secret = config.auth.urlSigningSecret;
  const grantOf = secret ? cachedUrlGrants(secret, { ttlMs }) : undefined;
  const signedUrlOf = reusedSignedUrls(storage, config.edge.signedUrlTtlSeconds);
  // A cached redirect is a cached access decision: browsers and shared caches (a CDN in front of the edge)
  // may keep one only for what is left of the edge's own window on that decision, or a revocation would
  // wait for their copy after the edge's. Made once for each whole second a window can have left.
  const publicCacheControl = Array.from(
    { length: Math.floor(ttlMs / 1000) + 1 },
    (_, seconds) => `public, max-age=${seconds}`,
  );
  // Whole seconds strictly inside what is left: with exactly 2000 ms left (a decision read in the millisecond
  // it was asked for) a max-age of 2 would end after the edge's own trust does.
  const secondsLeft = (decided: KnownReferences) =>
    Math.min(publicCacheControl.length - 1, Math.max(0, Math.floor((decided.until - Date.now() - 1) / 1000)));
  const cdnBaseUrl = config.cdnBaseUrl;

  const authorize = (read: Read): void | Promise<void> => {
    const decided = references(hlsMasterKey(read.key) ?? read.key);
    if (decided instanceof Promise) return decided.then((found) => answer(read, found));
    return answer(read, decided);
  };

  const answer = (read: Read, decided: KnownReferences): void | Promise<void> => {
    const { request, reply, key, viewer, grant } = read;
    const decision: AccessDecision = decideAccess(decided.refs, viewer, grant !== undefined);
    if (decision === 'public') {
      if (isPlaylist(key)) return answerPlaylist(reply, key, undefined, secondsLeft(decided)).then(nothing);
      if (cdnBaseUrl) {
        const served = negotiate(key, request.headers.accept);
        if (served instanceof Promise) return served.then((s) => redirectToCdn(reply, s, decided));
        return redirectToCdn(reply, served, decided);
      }
    } else if (decision === 'private') {
      if (isPlaylist(key)) {
        const viewerSub = viewer?.sub ?? grant?.sub ?? 'anonymous';
        return answerPlaylist(reply, key, viewerSub, secondsLeft(decided)).then(nothing);
      }
    } else {
      return refuse(reply, refusals[decision]);
    }
    const served = negotiate(key, request.headers.accept);
    if (served instanceof Promise) return served.then((s) => answerFromStorage(read, s, decided));
    return answerFromStorage(read, served, decided);
  };

  const redirectToCdn = (reply: FastifyReply, served: Negotiated, decided: KnownReferences): void => {
    if (served.varies) reply.header('vary', 'Accept');
    reply
      .header('cache-control', publicCacheControl[secondsLeft(decided)])
      .redirect(`${cdnBaseUrl}/${served.key}`, 302);
  };

  const answerFromStorage = (
    read: Read,
    served: Negotiated,
    decided: KnownReferences,
  ): void | Promise<void> => {
    const { request, reply } = read;
    if (served.varies) reply.header('vary', 'Accept');
    // A player that sends its header on every request would carry it to the signed URL, which refuses it.
    if (request.headers.authorization !== undefined && isPlayback(served.key)) {
      return proxyObject(storage, served.key, request, reply).then(nothing);
    }
    const signed = signedUrlOf(served.key);
    if (signed instanceof Promise) return signed.then((url) => redirectToStorage(reply, url, decided));
    return redirectToStorage(reply, signed, decided);
  };

  const redirectToStorage = (reply: FastifyReply, signed: SignedUrl, decided: KnownReferences): void => {
    // Nor longer than the URL it names stays valid (less a margin for clock skew).
    const maxAge = Math.max(
      0,
      Math.min(secondsLeft(decided), Math.floor((signed.expiresAt - Date.now()) / 1000) - 30),
    );
    reply.header('cache-control', `private, max-age=${maxAge}`).redirect(signed.url, 302);
  };

  return (request: EdgeRequest, reply: FastifyReply): void | Promise<void> => {
    const query = request.query;
    if (!edgeQuery.Check(query)) return refuseQuery(reply, query);
    const key = request.params['*'];
    if (!isKeyShaped(key)) return refuse(reply, refusals.unknown);
    const token = query.token;
    const grant = token !== undefined && grantOf ? grantOf(token, key) : undefined;
    const bearer = bearerToken(request);
    if (bearer === undefined) return authorize({ request, reply, key, viewer: undefined, grant });
    const viewer = viewerOf(bearer);
    if (viewer instanceof Promise) {
      return viewer.then((found) => authorize({ request, reply, key, viewer: found, grant }));
    }
    return authorize({ request, reply, key, viewer, grant });
  };
}

function nothing(): void {}

/** The same 400 Fastify's validation would give: each failing parameter named. */
function refuseQuery(reply: FastifyReply, query: unknown): void {
  const errors = [...edgeQuery.Errors(query)].map((e) => ({
    path: `querystring${e.path}`,
    message: e.message,
  }));
  const detail = errors.map((e) => `${e.path} ${e.message}`).join(', ');
  sendProblem(reply, problemOf('validation_failed', detail, errors));
}
