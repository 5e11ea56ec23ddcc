import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('api_keys')
    .addColumn('name', 'text', (col) => col.notNull().defaultTo('Default key'))
    // 'full', 'read_only', or {"<resource>": "read" | "write"}; keys made before keys were managed have full access.
    .addColumn('permissions', 'jsonb', (col) => col.notNull().defaultTo(sql`'"full"'::jsonb`))
    // Set when the key is rolled: it keeps working until then (a grace period of up to 7 days).
    .addColumn('expires_at', 'timestamptz')
    // The key a roll replaced this one with.
    .addColumn('rolled_to', 'text', (col) => col.references('api_keys.id'))
    .execute();
  // Listing a merchant's keys of one mode, newest first.
  await db.schema.createIndex('api_keys_merchant_mode_idx').on('api_keys').columns(['merchant_id', 'livemode', 'id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('api_keys_merchant_mode_idx').execute();
  await db.schema.alterTable('api_keys').dropColumn('rolled_to').dropColumn('expires_at').dropColumn('permissions').dropColumn('name').execute();
}
