import { sql, type Kysely } from 'kysely';

/**
 * A merchant's own daily payout limit per mode (docs/payouts.md#approvals-and-limits), in USD cents,
 * set by the operator (`npm run cli -- merchant payout-limit`): null follows the operator's
 * INFLOW_PAYOUT_DAILY_LIMIT_USD_<MODE>.
 */
export async function up(db: Kysely<any>): Promise<void> {
  for (const mode of ['test', 'live']) {
    await db.schema
      .alterTable('merchants')
      .addColumn(`payout_daily_limit_usd_cents_${mode}`, sql`numeric(20, 0)`, (col) => col.check(sql.raw(`payout_daily_limit_usd_cents_${mode} >= 0`)))
      .execute();
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('merchants').dropColumn('payout_daily_limit_usd_cents_test').dropColumn('payout_daily_limit_usd_cents_live').execute();
}
