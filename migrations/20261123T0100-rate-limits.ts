import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // Each API key's request-rate state, shared by every API process: one row per key and policy
  // (reads, writes), holding the GCRA's theoretical arrival time, so the table never grows past
  // two rows per key and needs no purge. Unlogged: it is written on every request, and losing it
  // in a crash or a failover only gives keys a fresh quota, so it is not worth a WAL record each.
  await db.schema
    .createTable('rate_limits')
    .modifyFront(sql`unlogged`)
    .addColumn('api_key_id', 'text', (col) => col.notNull().references('api_keys.id').onDelete('cascade'))
    .addColumn('policy', 'text', (col) => col.notNull().check(sql`policy in ('reads', 'writes')`))
    .addColumn('theoretical_arrival_at', 'timestamptz', (col) => col.notNull())
    // Whether the last request was admitted: what the one statement reads back (RETURNING sees only the new row).
    .addColumn('last_admitted', 'boolean', (col) => col.notNull())
    .addPrimaryKeyConstraint('rate_limits_pkey', ['api_key_id', 'policy'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('rate_limits').execute();
}
