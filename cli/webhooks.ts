import { listDeliveries, redeliver } from '../api/webhooks/deliveries.ts';
import { createEndpoint, listEndpoints, updateEndpoint } from '../api/webhooks/endpoints.ts';
import { CreateEndpointBody, DeliveryQuery, EndpointParams } from '../contracts/webhook-endpoints.ts';
import { connectDatabase, type Database } from '../db/client.ts';
import { type Config, requireSetting } from '../platform/config.ts';
import { option } from './args.ts';
import { checked } from './checked-args.ts';

const usage = `usage: mediagate webhooks add --url URL [--events media.ready,media.failed…] [--description TEXT]
       mediagate webhooks list
       mediagate webhooks deliveries --endpoint ID [--state pending|delivered|failed] [--limit N] [--before ID]
       mediagate webhooks redeliver --endpoint ID --delivery ID
       mediagate webhooks disable|enable --endpoint ID`;

/**
 * `mediagate webhooks …`: what the `/v1/webhook-endpoints` routes do, run straight against DATABASE_URL
 * with the same contracts and the same SSRF rule (WEBHOOK_ALLOW_PRIVATE_NETWORKS). A redelivery is sent
 * from the machine running the command.
 */
export async function runWebhooks(config: Config, args: string[]): Promise<unknown> {
  const [action, ...rest] = args;
  const endpointId = () =>
    checked(EndpointParams, { endpointId: option(rest, '--endpoint') }, usage).endpointId;
  const deps = (db: Database) => ({ db, allowPrivateNetworks: config.webhooks.allowPrivateNetworks });
  switch (action) {
    case 'add': {
      const events = option(rest, '--events');
      const body = checked(
        CreateEndpointBody,
        {
          url: option(rest, '--url'),
          description: option(rest, '--description'),
          eventTypes: events === undefined ? undefined : events.split(',').filter(Boolean),
        },
        usage,
      );
      return withDatabase(config, (db) => createEndpoint(deps(db), body));
    }
    case 'list':
      return withDatabase(config, listEndpoints);
    case 'deliveries': {
      const id = endpointId();
      const limit = option(rest, '--limit');
      const query = checked(
        DeliveryQuery,
        {
          state: option(rest, '--state'),
          limit: limit === undefined ? undefined : Number(limit),
          before: option(rest, '--before'),
        },
        usage,
      );
      return withDatabase(config, (db) => listDeliveries(db, id, query));
    }
    case 'redeliver': {
      const id = endpointId();
      const deliveryId = checked(
        EndpointParams,
        { endpointId: option(rest, '--delivery') },
        usage,
      ).endpointId;
      return withDatabase(config, (db) => redeliver(db, config.webhooks, id, deliveryId));
    }
    case 'disable':
    case 'enable': {
      const id = endpointId();
      return withDatabase(config, (db) => updateEndpoint(deps(db), id, { enabled: action === 'enable' }));
    }
    default:
      throw new Error(usage);
  }
}

async function withDatabase<T>(config: Config, work: (db: Database) => Promise<T>): Promise<T> {
  const database = connectDatabase(requireSetting(config.databaseUrl, 'DATABASE_URL'), 2);
  try {
    return await work(database.db);
  } finally {
    await database.close();
  }
}
