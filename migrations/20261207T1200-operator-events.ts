import { sql, type Kysely } from 'kysely';

/**
 * Operator events (docs/operations.md#operator-events): what the people who run inflow must be told
 * of, not any merchant's business, starting with `reconciliation.mismatch`. Written in the same
 * transaction as what they are about, delivered to INFLOW_OPERATOR_WEBHOOK_URL when one is
 * configured (`delivered_at`, `attempts`, `last_error` say how that went), and listed by
 * `npm run cli -- operator-events`.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('operator_events')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('type', 'text', (col) => col.notNull().check(sql`type in ('reconciliation.mismatch')`))
    .addColumn('livemode', 'boolean', (col) => col.notNull())
    .addColumn('data', 'jsonb', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('delivered_at', 'timestamptz')
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('operator_events').execute();
}
