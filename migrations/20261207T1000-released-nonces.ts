import { sql, type Kysely } from 'kysely';

/**
 * A nonce the signer refused to sign for is given back (docs/treasury.md#why-it-never-pays-twice):
 * left unused, it would be a gap every later transaction of its sender waits behind, for ever.
 * - `treasury_transactions_sent.status` may be `refused`, and a refused row keeps its request but
 *   no nonce;
 * - `released_nonces`: a sender's nonces given back while later ones were already taken; the next
 *   allocation for that sender takes the lowest first.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('treasury_transactions_sent').alterColumn('nonce', (col) => col.dropNotNull()).execute();
  await sql`alter table treasury_transactions_sent drop constraint treasury_transactions_sent_status_check`.execute(db);
  await sql`alter table treasury_transactions_sent add constraint treasury_transactions_sent_status_check
            check (status in ('allocated', 'signed', 'broadcast', 'confirmed', 'failed', 'refused'))`.execute(db);
  await db.schema
    .createTable('released_nonces')
    .addColumn('livemode', 'boolean', (col) => col.notNull())
    .addColumn('network', 'text', (col) => col.notNull())
    .addColumn('address', 'text', (col) => col.notNull())
    .addColumn('nonce', 'bigint', (col) => col.notNull())
    .addColumn('released_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('released_nonces_pkey', ['livemode', 'network', 'address', 'nonce'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('released_nonces').execute();
  await sql`delete from treasury_transactions_sent where status = 'refused'`.execute(db);
  await sql`alter table treasury_transactions_sent drop constraint treasury_transactions_sent_status_check`.execute(db);
  await sql`alter table treasury_transactions_sent add constraint treasury_transactions_sent_status_check
            check (status in ('allocated', 'signed', 'broadcast', 'confirmed', 'failed'))`.execute(db);
  await db.schema.alterTable('treasury_transactions_sent').alterColumn('nonce', (col) => col.setNotNull()).execute();
}
