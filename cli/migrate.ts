import { connectDatabase } from '../db/client.ts';
import { migrateDatabase } from '../db/migrate.ts';
import { type Config, requireSetting } from '../platform/config.ts';

export async function runMigrate(config: Config): Promise<void> {
  const database = connectDatabase(requireSetting(config.databaseUrl, 'DATABASE_URL'), 1);
  try {
    await migrateDatabase(database.db);
  } finally {
    await database.close();
  }
}
