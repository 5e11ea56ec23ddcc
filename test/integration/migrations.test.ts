import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { createDb, MIGRATION_DB, STATEMENT_TIMEOUT_MS } from '../../src/db/database';
import { migrateToLatest } from '../../src/db/migrate';
import { migrations } from '../../migrations';
import { createEmptyDatabase } from '../helpers/database';

describe('migrations', () => {
  let db: Kysely<any>;

  beforeAll(async () => {
    db = new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: await createEmptyDatabase() }) }) });
  });

  afterAll(async () => {
    await db?.destroy();
  });

  it('run up on an empty database, in the order of the explicit list', async () => {
    const { results = [] } = await migrateToLatest(db);
    expect(results.map((result) => [result.migrationName, result.status])).toEqual(Object.keys(migrations).map((name) => [name, 'Success']));
    const tables = await sql<{ table_name: string }>`select table_name from information_schema.tables where table_schema = 'public'`.execute(db);
    expect(tables.rows.map((row) => row.table_name)).toEqual(expect.arrayContaining(['merchants', 'api_keys']));
  });

  it('are idempotent: a second run applies nothing and changes nothing', async () => {
    const before = await sql`select table_name, column_name, data_type from information_schema.columns where table_schema = 'public' order by 1, 2`.execute(db);
    const { results = [] } = await migrateToLatest(db);
    expect(results).toEqual([]);
    const after = await sql`select table_name, column_name, data_type from information_schema.columns where table_schema = 'public' order by 1, 2`.execute(db);
    expect(after.rows).toEqual(before.rows);
  });

  it('enforce that an API key hash is unique', async () => {
    await db.insertInto('merchants').values({ id: 'mch_a', name: 'A' }).execute();
    const key = { merchant_id: 'mch_a', livemode: false, key_hash: 'f'.repeat(64), redacted: 'sk_test_…ffff' };
    await db
      .insertInto('api_keys')
      .values({ id: 'key_1', ...key })
      .execute();
    await expect(
      db
        .insertInto('api_keys')
        .values({ id: 'key_2', ...key })
        .execute(),
    ).rejects.toThrow(/unique/);
  });

  it('run on a connection without the request path’s statement timeout (npm run migrate, npm run dev): an index build may outlast it', async () => {
    const url = await createEmptyDatabase();
    const migrator = createDb(url, MIGRATION_DB);
    const requests = createDb(url);
    try {
      const timeoutOf = async (of: Kysely<any>) => (await sql<{ statement_timeout: string }>`show statement_timeout`.execute(of)).rows[0]!.statement_timeout;
      expect([await timeoutOf(migrator), await timeoutOf(requests)]).toEqual(['0', `${STATEMENT_TIMEOUT_MS / 1000}s`]);
      expect((await migrateToLatest(migrator)).error).toBeUndefined();
    } finally {
      await migrator.destroy();
      await requests.destroy();
    }
  });
});
