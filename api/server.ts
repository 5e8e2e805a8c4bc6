import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Principal, VerifyToken } from '../platform/auth/jwt.ts';
import type { Readiness } from '../platform/health/readiness.ts';
import { authenticate } from '../platform/http/authenticate.ts';
import { installProblemHandlers } from '../platform/http/problem.ts';
import { installBodyRules } from '../platform/http/request-body.ts';
import { installRequestFraming } from '../platform/http/request-framing.ts';
import { serverOptions } from '../platform/http/server-options.ts';
import { installValidators } from '../platform/http/validators.ts';
import { instrumentHttp } from '../platform/metrics/http.ts';
import { countDatabaseOutages } from '../platform/metrics/http-outages.ts';
import { traceHttp } from '../platform/tracing/http-spans.ts';
import type { ApiContext } from './context.ts';
import { consoleRoutes } from './routes/console.ts';
import { createApiReadiness, healthRoutes } from './routes/health.ts';
import { mediaRoutes } from './routes/media.ts';
import { liveStatusRoute, mediaEventRoutes } from './routes/media-events.ts';
import { opsRoutes } from './routes/ops.ts';
import type { RouteDeps } from './routes/route-deps.ts';
import { statsRoutes } from './routes/stats.ts';
import { storageOpsRoutes } from './routes/storage-ops.ts';
import { uploadRoutes } from './routes/uploads.ts';
import { webhookEndpointRoutes } from './routes/webhook-endpoints.ts';
import { webhookRoutes } from './routes/webhooks.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

export async function buildApiServer(
  ctx: ApiContext,
  verify: VerifyToken,
  registry: Registry,
  readiness: Readiness = createApiReadiness(ctx),
): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.logger as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    ...serverOptions(ctx.config.httpRequestTimeoutMs),
  });
  installRequestFraming(app, { readsBodies: true });
  traceHttp(app);
  installProblemHandlers(app);
  countDatabaseOutages(app, registry, 'api');
  instrumentHttp(app, registry, 'api');
  installValidators(app);
  installBodyRules(app);
  // Authentication runs before validation: an anonymous caller learns nothing about the schemas. The
  // matched route decides, not the raw target: `GET http://host/v1/media` routes like `/v1/media`.
  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', async (request) => {
    const route = request.routeOptions.url ?? '';
    // A browser's EventSource sends no headers: the live status stream checks its ?token= itself.
    const byStreamToken = route === liveStatusRoute && request.headers.authorization === undefined;
    if (route.startsWith('/v1/') && !route.startsWith('/v1/webhooks/') && !byStreamToken) {
      request.principal = await authenticate(request, verify);
    }
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'mediagate', version: '1', description: 'Media upload and processing control plane' },
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
      security: [{ bearerAuth: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(rateLimit, {
    global: false,
    // The verified subject, never the header's text: `Bearer <token> 1`, `… 2` would each be a new bucket.
    // Limited routes are all authenticated before the limiter runs (onRequest order above).
    keyGenerator: (request) => (request.principal ? `sub:${request.principal.sub}` : `ip:${request.ip}`),
  });

  const deps: RouteDeps = {
    ctx,
    caller: async (request) => request.principal ?? authenticate(request, verify),
    createLimit: { max: ctx.config.uploads.createPerMinute, timeWindow: '1 minute' },
  };
  await app.register(uploadRoutes, deps);
  await app.register(mediaRoutes, deps);
  await app.register(mediaEventRoutes, { ...deps, registry });
  await app.register(opsRoutes, deps);
  await app.register(statsRoutes, deps);
  await app.register(storageOpsRoutes, deps);
  await app.register(webhookRoutes, deps);
  await app.register(webhookEndpointRoutes, deps);
  await app.register(healthRoutes, { readiness });
  await app.register(consoleRoutes, { config: ctx.config });
  return app;
}
