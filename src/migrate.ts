/** `npm run migrate`: brings the database at DATABASE_URL to the latest schema. */
import { loadConfig } from './config';
import { migrateToLatest } from './db/migrate';
import { connectDatabase, runMain } from './startup';

runMain(async () => {
  const config = loadConfig(process.env, ['DATABASE_URL']);
  const db = await connectDatabase(config, { max: 1 });
  try {
    const { results = [] } = await migrateToLatest(db);
    for (const result of results) console.log(`migrated: ${result.migrationName}`);
    console.log(results.length === 0 ? 'database schema is up to date' : `${results.length} migration(s) applied`);
  } finally {
    await db.destroy();
  }
});
