/** `npm run migrate`: brings the database at DATABASE_URL to the latest schema. */
import { loadConfig } from './config';
import { MIGRATION_DB } from './db/database';
import { migrateToLatest } from './db/migrate';
import { plaintextSecretEndpoints } from './webhooks/webhooks.repository';
import { connectDatabase, runMain } from './startup';

runMain(async () => {
  const config = loadConfig(process.env, ['DATABASE_URL']);
  // Without the request path's statement timeout: an index build on a large table may outlast it.
  const db = await connectDatabase(config, MIGRATION_DB);
  try {
    const { results = [], sealedWebhookSecrets } = await migrateToLatest(db, { secretKey: config.secretKey });
    for (const result of results) console.log(`migrated: ${result.migrationName}`);
    console.log(results.length === 0 ? 'database schema is up to date' : `${results.length} migration(s) applied`);
    if (sealedWebhookSecrets) console.log(`sealed the secrets of ${sealedWebhookSecrets} webhook endpoint(s) stored in plaintext`);
    // Without the key nothing can be sealed here; the API seals them when it starts (it always has the key).
    if (!config.secretKey && (await plaintextSecretEndpoints(db, 1)).length > 0) {
      console.log('INFLOW_SECRET_KEY is not set: webhook secrets still in plaintext are sealed when the API starts');
    }
  } finally {
    await db.destroy();
  }
});
