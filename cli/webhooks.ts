import { listDeliveries, redeliver } from '../api/webhooks/deliveries.ts';
import { createEndpoint, listEndpoints, updateEndpoint } from '../api/webhooks/endpoints.ts';
import { CreateEndpointBody, DeliveryQuery, EndpointParams } from '../contracts/webhook-endpoints.ts';
import { connectDatabase, type Database } from '../db/client.ts';
import { type Config, requireSetting } from '../platform/config.ts';
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
  const [action = '', ...rest] = args;
  const given = flagsOf(rest, allowedFlags[action] ?? []);
  const endpointId = () => checked(EndpointParams, { endpointId: given.get('--endpoint') }, usage).endpointId;
  const deps = (db: Database) => ({ db, allowPrivateNetworks: config.webhooks.allowPrivateNetworks });
  switch (action) {
    case 'add': {
      const events = given.get('--events');
      const body = checked(
        CreateEndpointBody,
        {
          url: given.get('--url'),
          description: given.get('--description'),
          // Every piece must be a type: `--events ""` or `a,,b` is a mistake, not "every type".
          eventTypes: events === undefined ? undefined : events.split(','),
        },
        usage,
      );
      return withDatabase(config, (db) => createEndpoint(deps(db), body));
    }
    case 'list':
      return withDatabase(config, listEndpoints);
    case 'deliveries': {
      const id = endpointId();
      const limit = given.get('--limit');
      const query = checked(
        DeliveryQuery,
        {
          state: given.get('--state'),
          limit: limit === undefined ? undefined : Number(limit),
          before: given.get('--before'),
        },
        usage,
      );
      return withDatabase(config, (db) => listDeliveries(db, id, query));
    }
    case 'redeliver': {
      const id = endpointId();
      const deliveryId = checked(EndpointParams, { endpointId: given.get('--delivery') }, usage).endpointId;
      const view = await withDatabase(config, (db) => redeliver(db, config.webhooks, id, deliveryId));
      const [attempt] = view.attemptLog;
      if (!attempt?.statusCode || attempt.statusCode < 200 || attempt.statusCode >= 300)
        throw new Error(
          `redelivery failed: ${attempt?.error ?? 'no attempt recorded'} (the delivery stays ${view.state})`,
        );
      return view;
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

const allowedFlags: Record<string, string[]> = {
  add: ['--url', '--events', '--description'],
  list: [],
  deliveries: ['--endpoint', '--state', '--limit', '--before'],
  redeliver: ['--endpoint', '--delivery'],
  disable: ['--endpoint'],
  enable: ['--endpoint'],
};

/** Each flag known to the action, given once, with a value: a typo or a repeat is refused, never guessed. */
function flagsOf(rest: string[], allowed: string[]): Map<string, string> {
  const given = new Map<string, string>();
  for (let i = 0; i < rest.length; i += 2) {
    const [name = '', value] = [rest[i], rest[i + 1]];
    if (!allowed.includes(name)) throw new Error(`unknown argument ${name}\n${usage}`);
    if (given.has(name)) throw new Error(`${name} given more than once\n${usage}`);
    if (value === undefined) throw new Error(`${name} needs a value\n${usage}`);
    given.set(name, value);
  }
  return given;
}

async function withDatabase<T>(config: Config, work: (db: Database) => Promise<T>): Promise<T> {
  const database = connectDatabase(requireSetting(config.databaseUrl, 'DATABASE_URL'), 2);
  try {
    return await work(database.db);
  } finally {
    await database.close();
  }
}
