import { Migrator, type Kysely, type MigrationResultSet } from 'kysely';
import { migrations } from '../../migrations';
import { sealPlaintextWebhookSecrets } from '../webhooks/sealed-secrets';
import type { Db } from './database';

/**
 * Applies every pending migration in order; running it again is a no-op. Given INFLOW_SECRET_KEY
 * (`secretKey`), it then seals the webhook endpoint secrets still stored in plaintext: a step no
 * migration can take, as migrations never see the server key (sealed-secrets.ts says what happens
 * without it). Give it a connection made with MIGRATION_DB (database.ts): the request path's
 * statement timeout would cancel a long index build.
 */
export async function migrateToLatest(
  db: Kysely<any>,
  options: { secretKey?: Buffer | undefined } = {},
): Promise<MigrationResultSet & { sealedWebhookSecrets?: number }> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const result = await migrator.migrateToLatest();
  if (result.error) throw result.error;
  if (!options.secretKey) return result;
  return { ...result, sealedWebhookSecrets: await sealPlaintextWebhookSecrets(db as Db, options.secretKey) };
}
