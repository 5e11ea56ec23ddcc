import { sql, type Kysely } from 'kysely';

/**
 * How many units a key's last rate-limit statement granted: an API process may take several at once
 * (a lease, api/middleware/rate-limit.ts) and serve them from memory. 0 is a refusal.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('rate_limits')
    .addColumn('last_granted', 'integer', (col) => col.notNull().defaultTo(sql`0`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('rate_limits').dropColumn('last_granted').execute();
}
