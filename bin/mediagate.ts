#!/usr/bin/env node
import { option, positional } from '../cli/args.ts';
import { startFailure } from '../cli/start-failure.ts';
import { runStorage } from '../cli/storage.ts';
import { runToken } from '../cli/token.ts';
import { uploadFile } from '../cli/upload.ts';
import type { Running } from '../cli/worker-role.ts';
import { signDevToken } from '../platform/auth/jwt.ts';
import { type Config, loadConfig, loadDevClientConfig } from '../platform/config.ts';
import { createLogger } from '../platform/logger.ts';

const usage = `usage: mediagate <command>
  dev                       whole platform on embedded dependencies (npm start)
  api | worker | edge       one role, configured from the environment
  migrate                   apply database migrations
  storage init              create S3_BUCKET with its lifecycle rule (idempotent)
  token --sub ID [--admin]  print a token signed with JWT_SECRET
  upload FILE [--type T] [--token T] [--sub ID] [--api URL]
                            upload a file through the whole flow and print the media
  outbox list|replay …      outbox rows and replays, straight from DATABASE_URL (JSON)
  dlq list|redrive …        dead letters of the configured bus (JSON)
  webhooks add|list|deliveries|redeliver|disable|enable …
                            outgoing webhook endpoints and their delivery log, from DATABASE_URL (JSON)`;

const [command = 'help', ...args] = process.argv.slice(2);
// Only the local helpers take the settings a running `mediagate dev` left in DATA_DIR/dev.env; everything
// else, dev included, is configured by the environment alone.
const config = loadOrExit(command === 'token' || command === 'upload' ? loadDevClientConfig : loadConfig);
const logger = createLogger(config, command);

function loadOrExit(load: () => Config): Config {
  try {
    return load();
  } catch (error) {
    process.stderr.write(`${startFailure(error)}\n`);
    process.exit(2);
  }
}

async function serve(start: () => Promise<Running>, banner?: string): Promise<void> {
  const running = await start();
  if (banner) process.stdout.write(`${banner}\n`);
  let stopping = false;
  const stop = async (signal: string) => {
    // A second Ctrl-C means the user is done waiting for a graceful stop.
    if (stopping) process.exit(130);
    stopping = true;
    logger.info({ signal }, 'shutting down');
    try {
      await running.stop();
    } catch (error) {
      process.stderr.write(`shutdown failed: ${startFailure(error, config)}\n`);
      process.exit(1);
    }
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

// Commands load what they run, and only that: a worker process never holds the API's or the database
// layer's modules (drizzle's ESM graph alone leaves ~150 MB of heap behind).
async function main(): Promise<void> {
  switch (command) {
    case 'dev': {
      const { devBanner, runDev } = await import('../cli/dev.ts');
      return serve(() => runDev(config, logger), devBanner(config));
    }
    case 'api': {
      const { runApi } = await import('../cli/roles.ts');
      return serve(() => runApi(config, logger));
    }
    case 'worker': {
      const { runWorker } = await import('../cli/worker-role.ts');
      return serve(() => runWorker(config, logger));
    }
    case 'edge': {
      const { runEdge } = await import('../cli/roles.ts');
      return serve(() => runEdge(config, logger));
    }
    case 'migrate':
      await (await import('../cli/migrate.ts')).runMigrate(config);
      process.stdout.write('migrations applied\n');
      return;
    case 'storage':
      process.stdout.write(`${await runStorage(config, args)}\n`);
      return;
    case 'outbox':
      return printJson(await (await import('../cli/outbox.ts')).runOutbox(config, args));
    case 'dlq':
      return printJson(await (await import('../cli/dlq.ts')).runDlq(config, args));
    case 'webhooks':
      return printJson(await (await import('../cli/webhooks.ts')).runWebhooks(config, args));
    case 'token':
      process.stdout.write(`${runToken(config, args)}\n`);
      return;
    case 'upload': {
      const [file] = positional(args);
      if (!file) throw new Error(usage);
      const secret = config.auth.jwtSecret;
      const token =
        option(args, '--token') ??
        (secret ? signDevToken(secret, { sub: option(args, '--sub') ?? 'dev-user', roles: [] }) : undefined);
      if (!token)
        throw new Error('No token: pass --token, or run `mediagate dev` first so JWT_SECRET is known');
      const media = await uploadFile(file, {
        apiUrl: option(args, '--api') ?? `http://${config.host}:${config.apiPort}`,
        token,
        contentType: option(args, '--type'),
        onProgress: (line) => process.stderr.write(`${line}\n`),
      });
      process.stdout.write(`${JSON.stringify(media, null, 2)}\n`);
      if (media.status !== 'ready') process.exitCode = 1;
      return;
    }
    default:
      process.stdout.write(`${usage}\n`);
      if (command !== 'help') process.exitCode = 2;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${startFailure(error, config)}\n`);
  process.exit(1);
});
