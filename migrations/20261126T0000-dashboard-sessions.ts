import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // One signed-in dashboard browser. The id is the SHA-256 of the cookie's token (the token itself
  // is never stored); each mode's API key is sealed with INFLOW_SECRET_KEY, never kept in plaintext.
  await db.schema
    .createTable('dashboard_sessions')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('csrf_token', 'text', (column) => column.notNull())
    .addColumn('mode', 'text', (column) => column.notNull().check(sql`mode in ('test', 'live')`))
    .addColumn('test_key_sealed', 'text')
    .addColumn('live_key_sealed', 'text')
    .addColumn('created_at', 'timestamptz', (column) => column.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (column) => column.notNull())
    .execute();
  await db.schema.createIndex('dashboard_sessions_expires_at_idx').on('dashboard_sessions').column('expires_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('dashboard_sessions').execute();
}
