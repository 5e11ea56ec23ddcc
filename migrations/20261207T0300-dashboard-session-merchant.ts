import { sql, type Kysely } from 'kysely';

/**
 * `dashboard_sessions.merchant_id` and `merchant_name`: the merchant a dashboard session is bound
 * to, recorded at sign-in from `GET /api/v1/account`, so the other mode's key is accepted only when
 * it is the same merchant's, and the layout says whose data is shown. Sessions signed in before
 * have no merchant on record: they end here (every browser signs in again; sessions last 12 hours).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`delete from dashboard_sessions`.execute(db);
  await db.schema
    .alterTable('dashboard_sessions')
    .addColumn('merchant_id', 'text', (col) => col.notNull())
    .addColumn('merchant_name', 'text', (col) => col.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('dashboard_sessions').dropColumn('merchant_id').dropColumn('merchant_name').execute();
}
