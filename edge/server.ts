import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  LogController,
} from 'fastify';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import { AppError } from '../contracts/errors.ts';
import type { VerifyToken } from '../platform/auth/jwt.ts';
import { signUrlToken, viewTokenExpiry } from '../platform/auth/url-token.ts';
import type { Config } from '../platform/config.ts';
import { type Readiness, readinessResponse } from '../platform/health/readiness.ts';
import { installProblemHandlers } from '../platform/http/problem.ts';
import { installRequestFraming } from '../platform/http/request-framing.ts';
import { serverOptions } from '../platform/http/server-options.ts';
import { installValidators } from '../platform/http/validators.ts';
import type { Logger } from '../platform/logger.ts';
import { instrumentEdgeReads } from '../platform/metrics/edge.ts';
import { countDatabaseOutages } from '../platform/metrics/http-outages.ts';
import type { ObjectStorage } from '../platform/storage/object-storage.ts';
import { playlistMaxAgeSeconds, rewritePlaylist } from './playlist.ts';
import { edgeReads } from './read.ts';

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
    logController: new LogController({ disableRequestLogging: true }),
    // Nor does a read get a child logger of its own (pino serializes the request id into every child): the
    // edge logs only failures, and those carry the request's method and URL.
    childLoggerFactory: (logger) => logger,
    ...serverOptions(deps.config.httpRequestTimeoutMs),
  });
  installRequestFraming(app, { readsBodies: false });
  installProblemHandlers(app);
  installValidators(app);
  countDatabaseOutages(app, deps.registry, 'edge');
  instrumentEdgeReads(app, deps.registry);
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const { statusCode, body } = await readinessResponse(deps.readiness);
    return reply.status(statusCode).send(body);
  });

  app.get(
    '/m/*',
    edgeReads(deps, (reply, key, viewer, maxAgeSeconds) =>
      answerPlaylist(deps, reply, key, viewer, maxAgeSeconds),
    ),
  );
  return app;
}

const maxPlaylistBytes = 1024 * 1024;

/**
 * Playlists are answered by the edge itself, their references rewritten to signed edge URLs. Cached no
 * longer than the access decision behind them (`decisionMaxAge`), whatever the playlist's type allows.
 */
async function answerPlaylist(
  deps: EdgeDeps,
  reply: FastifyReply,
  key: string,
  privateViewer: string | undefined,
  decisionMaxAge: number,
) {
  const { config } = deps;
  // One ranged read, not a HEAD and then a read: players poll an EVENT playlist once a segment.
  const head = await deps.storage.readHead(key, maxPlaylistBytes);
  if (!head) throw new AppError('object_not_found', 'No such object');
  if (head.size > maxPlaylistBytes) throw new AppError('forbidden', 'Playlist too large');
  const body = head.bytes.toString('utf8');
  const secret = config.auth.urlSigningSecret;
  const exp = viewTokenExpiry(config.edge.viewTokenTtlSeconds);
  const urlFor = (target: string) => {
    const url = `${config.edgePublicUrl}/m/${target}`;
    if (!privateViewer || !secret) return url;
    return `${url}?token=${signUrlToken(secret, { key: target, sub: privateViewer, exp })}`;
  };
  const maxAge = Math.min(playlistMaxAgeSeconds(body), decisionMaxAge);
  return reply
    .type('application/vnd.apple.mpegurl')
    .header('cache-control', `${privateViewer ? 'private' : 'public'}, max-age=${maxAge}`)
    .send(rewritePlaylist(body, key, urlFor));
}
