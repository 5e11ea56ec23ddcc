import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // Where each chain watcher resumes: advanced only after a round's signals were sent.
  await db.schema
    .createTable('chain_cursors')
    .addColumn('livemode', 'boolean', (col) => col.notNull())
    .addColumn('network', 'text', (col) => col.notNull())
    .addColumn('next_block', 'bigint', (col) => col.notNull())
    .addColumn('head', 'bigint', (col) => col.notNull())
    // The hash of the last block scanned: if it changes, a reorg replaced blocks already scanned.
    .addColumn('last_block_hash', 'text')
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('chain_cursors_pkey', ['livemode', 'network'])
    .execute();
  await db.schema.createIndex('deposits_pending_idx').on('deposits').columns(['livemode', 'network', 'status']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('deposits_pending_idx').execute();
  await db.schema.dropTable('chain_cursors').execute();
}
