import { sql, type Kysely } from 'kysely';

/**
 * How a payout's fee is charged (docs/payouts.md#fees), decided by the API when it is made and
 * kept on its row, so the worker that books it never reads another process's settings:
 * `fixed`, the fee held is the fee charged; `measured`, the fee held is the most it may be, and
 * the network cost its transaction was measured at when final is charged, up to that.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('payouts')
    .addColumn('fee_basis', 'text', (col) => col.notNull().defaultTo('fixed').check(sql`fee_basis in ('fixed', 'measured')`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('payouts').dropColumn('fee_basis').execute();
}
