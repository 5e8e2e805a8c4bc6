import { join } from 'node:path';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { packageRoot } from '../platform/package-root.ts';
import type { Database } from './client.ts';

const migrationsFolder = join(packageRoot, 'db/migrations');

/** Applies the committed SQL migrations; already-applied ones are skipped, so running it twice is a no-op. */
export async function migrateDatabase(db: Database): Promise<void> {
  await migrate(db, { migrationsFolder });
}
