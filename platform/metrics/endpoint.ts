import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Problem } from '../../contracts/problem.ts';
import type { Config } from '../config.ts';
import { combineReadiness, type Readiness, readinessResponse } from '../health/readiness.ts';
import { refuseParserError } from '../http/client-errors.ts';
import { problemOf } from '../http/problem.ts';
import { declaresBody, framingRefusal, installServerRefusals } from '../http/request-framing.ts';
import { requestTimeouts } from '../http/timeouts.ts';
import type { Logger } from '../logger.ts';

/** `dev` is the process running all three roles, which share its one endpoint. */
export type MetricsRole = 'api' | 'worker' | 'edge' | 'dev';

/** Each role has its own default, so the three roles can run on one host without setting anything. */
export const defaultMetricsPorts: Record<MetricsRole, number> = {
  api: 9464,
  worker: 9465,
  edge: 9466,
  dev: 9464,
};

export interface RoleMetrics {
  registry: Registry;
  /** Where Prometheus scrapes this process. */
  url: string;
  release(): Promise<void>;
}

interface Endpoint {
  registry: Registry;
  server: Server;
  url: string;
  readiness: Set<Readiness>;
}

/**
 * One Prometheus endpoint per process, never on a public port: `GET /metrics`, plus `/healthz` and `/readyz`
 * for the roles in the process (the worker has no other HTTP port). Roles that share a process
 * (`mediagate dev`, which takes it first, as `dev`) share the endpoint and its registry; the first one's port wins, and the endpoint
 * closes when the last role releases it. Module state on purpose: it stands for the process itself.
 */
let endpoint: Promise<Endpoint> | undefined;
let users = 0;

export async function acquireRoleMetrics(
  config: Pick<Config, 'host' | 'metricsPort' | 'httpRequestTimeoutMs'>,
  role: MetricsRole,
  readiness: Readiness,
  logger: Logger,
): Promise<RoleMetrics> {
  users++;
  endpoint ??= openEndpoint(
    { ...config, port: config.metricsPort ?? defaultMetricsPorts[role] },
    role,
    logger,
  );
  let shared: Endpoint;
  try {
    shared = await endpoint;
  } catch (error) {
    users--;
    endpoint = undefined;
    throw error;
  }
  shared.readiness.add(readiness);
  logger.info({ url: `${shared.url}/metrics` }, 'metrics endpoint');
  let released = false;
  return {
    registry: shared.registry,
    url: shared.url,
    async release() {
      if (released) return;
      released = true;
      shared.readiness.delete(readiness);
      if (--users > 0) return;
      endpoint = undefined;
      shared.server.closeAllConnections();
      await new Promise<void>((resolve) => shared.server.close(() => resolve()));
    },
  };
}

async function openEndpoint(
  { host, port, httpRequestTimeoutMs }: { host: string; port: number; httpRequestTimeoutMs: number },
  role: MetricsRole,
  logger: Logger,
): Promise<Endpoint> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const readiness = new Set<Readiness>();
  // The api's and the edge's request timeout: a scrape is one small GET, and a client that trickles one holds a
  // socket as it would there.
  const options = { ...requestTimeouts(httpRequestTimeoutMs).http, requireHostHeader: false };
  // Each path answers GET (and HEAD); any other method on it is a 405, any other path a 404.
  const routes = new Map<string, (response: ServerResponse) => Promise<void>>([
    [
      '/metrics',
      async (response) => {
        response.writeHead(200, { 'content-type': registry.contentType }).end(await registry.metrics());
      },
    ],
    ['/healthz', async (response) => send(response, 200, { status: 'ok' })],
    [
      '/readyz',
      async (response) => {
        const { statusCode, body } = await readinessResponse(combineReadiness(readiness));
        send(response, statusCode, body);
      },
    ],
  ]);
  const server = createServer(options, async (request, response) => {
    const path = request.url?.split('?')[0] ?? '';
    const refusal = framingRefusal(request);
    // No route here reads a body: one that is sent ends the connection after the answer, so the rest of
    // it is never read as a next request (as the edge does).
    if (declaresBody(request)) response.setHeader('connection', 'close');
    const route = routes.get(path);
    try {
      if (refusal) {
        sendProblem(response, problemOf(refusal.code, refusal.message), { connection: 'close' });
      } else if (route === undefined) {
        sendProblem(response, problemOf('not_found', `No route for ${request.method} ${path}`));
      } else if (request.method === 'GET' || request.method === 'HEAD') {
        await route(response);
      } else {
        sendProblem(response, problemOf('method_not_allowed', `${path} serves GET and HEAD only`), {
          allow: 'GET, HEAD',
        });
      }
    } catch (error) {
      send(response, 500, {
        status: 'error',
        detail: error instanceof Error ? error.message : String(error),
      });
    }
  });
  installServerRefusals(server);
  server.on('clientError', (error, socket) => refuseParserError(logger, error, socket as Socket));
  server.listen(port, host);
  try {
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([e]) => Promise.reject(e))]);
  } catch (error) {
    server.close();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      const whose =
        role === 'dev' ? 'the metrics endpoint of mediagate dev' : `the ${role} role's metrics endpoint`;
      throw new Error(
        `METRICS_PORT ${port} (${whose}) is in use: set METRICS_PORT to a free port, or 0 for any free port`,
      );
    }
    throw error;
  }
  const address = server.address() as AddressInfo;
  return { registry, server, url: `http://${host}:${address.port}`, readiness };
}

function send(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
  type = 'application/json',
): void {
  const text = JSON.stringify(body);
  response
    .writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text), ...headers })
    .end(text);
}

function sendProblem(response: ServerResponse, problem: Problem, headers: Record<string, string> = {}): void {
  send(response, problem.status, problem, headers, 'application/problem+json');
}
