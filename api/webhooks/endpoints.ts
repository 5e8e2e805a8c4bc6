import { randomUUID } from 'node:crypto';
import { and, asc, eq, sql } from 'drizzle-orm';
import { AppError } from '../../contracts/errors.ts';
import type {
  CreateEndpointBody,
  EndpointView,
  EndpointWithSecret,
  UpdateEndpointBody,
} from '../../contracts/webhook-endpoints.ts';
import type { Database } from '../../db/client.ts';
import { webhookDelivery, webhookEndpoint } from '../../db/schema.ts';
import { vetEndpointUrl } from './endpoint-url.ts';
import { generateSecret } from './signature.ts';
import { endpointView } from './views.ts';

export interface EndpointDeps {
  db: Database;
  allowPrivateNetworks: boolean;
}

/** How long the secret a rotation replaced keeps signing beside the new one. */
export const rotationGraceMs = 24 * 3600 * 1000;

export async function createEndpoint(
  deps: EndpointDeps,
  body: CreateEndpointBody,
): Promise<EndpointWithSecret> {
  const url = await vetEndpointUrl(body.url, deps.allowPrivateNetworks);
  const [row] = await deps.db
    .insert(webhookEndpoint)
    .values({
      id: randomUUID(),
      url,
      description: body.description ?? '',
      secret: generateSecret(),
      eventTypes: body.eventTypes ?? [],
    })
    .returning();
  if (!row) throw new Error('insert returned no row');
  return { ...endpointView(row), secret: row.secret };
}

export async function listEndpoints(db: Database): Promise<{ items: EndpointView[] }> {
  const rows = await db.select().from(webhookEndpoint).orderBy(asc(webhookEndpoint.createdAt));
  return { items: rows.map(endpointView) };
}

export async function getEndpoint(db: Database, id: string): Promise<EndpointView> {
  return endpointView(await loadEndpoint(db, id));
}

export async function loadEndpoint(db: Database, id: string) {
  const [row] = await db.select().from(webhookEndpoint).where(eq(webhookEndpoint.id, id));
  if (!row) throw new AppError('webhook_endpoint_not_found');
  return row;
}

/**
 * Re-enabling clears the failure streak and makes every pending delivery due now, so what queued up while
 * the endpoint was disabled goes out at once instead of waiting out its backoff.
 */
export async function updateEndpoint(
  deps: EndpointDeps,
  id: string,
  body: UpdateEndpointBody,
): Promise<EndpointView> {
  const url = body.url === undefined ? undefined : await vetEndpointUrl(body.url, deps.allowPrivateNetworks);
  return deps.db.transaction(async (tx) => {
    const [row] = await tx
      .update(webhookEndpoint)
      .set({
        url,
        description: body.description,
        eventTypes: body.eventTypes,
        updatedAt: new Date(),
        ...(body.enabled === true && {
          enabled: true,
          disabledReason: null,
          disabledAt: null,
          failingSince: null,
        }),
        ...(body.enabled === false && {
          enabled: false,
          disabledReason: sql`case when ${webhookEndpoint.enabled} then 'disabled by an operator' else ${webhookEndpoint.disabledReason} end`,
          disabledAt: sql`coalesce(${webhookEndpoint.disabledAt}, now())`,
        }),
      })
      .where(eq(webhookEndpoint.id, id))
      .returning();
    if (!row) throw new AppError('webhook_endpoint_not_found');
    if (body.enabled === true)
      await tx
        .update(webhookDelivery)
        .set({ nextAttemptAt: sql`now()` })
        .where(and(eq(webhookDelivery.endpointId, id), eq(webhookDelivery.state, 'pending')));
    return endpointView(row);
  });
}

export async function deleteEndpoint(db: Database, id: string): Promise<void> {
  const deleted = await db
    .delete(webhookEndpoint)
    .where(eq(webhookEndpoint.id, id))
    .returning({ id: webhookEndpoint.id });
  if (deleted.length === 0) throw new AppError('webhook_endpoint_not_found');
}

/** A new secret, shown once; the old one keeps signing for `rotationGraceMs` so receivers can switch. */
export async function rotateSecret(db: Database, id: string): Promise<EndpointWithSecret> {
  const [row] = await db
    .update(webhookEndpoint)
    .set({
      secret: generateSecret(),
      previousSecret: sql`${webhookEndpoint.secret}`,
      previousSecretUntil: new Date(Date.now() + rotationGraceMs),
      updatedAt: new Date(),
    })
    .where(eq(webhookEndpoint.id, id))
    .returning();
  if (!row) throw new AppError('webhook_endpoint_not_found');
  return { ...endpointView(row), secret: row.secret };
}
