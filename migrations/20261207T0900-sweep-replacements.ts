import { sql, type Kysely } from 'kysely';

/**
 * Fee replacement of a stuck treasury transaction (docs/treasury.md#stuck-transactions):
 * - `treasury_transactions_sent.replacement_request`: the next version's request, recorded before
 *   the signer is asked, so a retry after a crash asks for exactly the same bytes;
 * - `treasury_transactions_sent.replacements`: how many versions were replaced (the current one's
 *   number, part of its signer request id);
 * - `treasury_transactions_sent.broadcast_block`: the head when the current version was signed,
 *   from which "stuck" is counted;
 * - `treasury_sent_replaced`: every version replaced by a higher fee, with its request and bytes.
 *   Any version of a nonce may be the one mined, so each hash stays known: the watcher never takes
 *   one for a payment, and confirming looks for all of them.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('treasury_transactions_sent')
    .addColumn('replacement_request', 'jsonb')
    .addColumn('replacements', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('broadcast_block', 'bigint')
    .execute();
  await db.schema
    .createTable('treasury_sent_replaced')
    .addColumn('sent_id', 'text', (col) => col.notNull().references('treasury_transactions_sent.id'))
    .addColumn('version', 'integer', (col) => col.notNull())
    .addColumn('livemode', 'boolean', (col) => col.notNull())
    .addColumn('network', 'text', (col) => col.notNull())
    .addColumn('hash', 'text', (col) => col.notNull())
    .addColumn('request', 'jsonb', (col) => col.notNull())
    .addColumn('signed_transaction', 'text', (col) => col.notNull())
    .addColumn('replaced_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('treasury_sent_replaced_pkey', ['sent_id', 'version'])
    .execute();
  await db.schema.createIndex('treasury_sent_replaced_hash_key').on('treasury_sent_replaced').columns(['livemode', 'network', 'hash']).unique().execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('treasury_sent_replaced').execute();
  await db.schema
    .alterTable('treasury_transactions_sent')
    .dropColumn('replacement_request')
    .dropColumn('replacements')
    .dropColumn('broadcast_block')
    .execute();
}
