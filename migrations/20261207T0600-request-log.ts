import { sql, type Kysely } from 'kysely';

/**
 * `api_requests`: the request log a merchant looks a `Request-Id` up in (`GET /requests/{id}`,
 * the dashboard's Requests page). One row per authenticated request, written in batches after the
 * answer, best-effort (src/requests/request-log.ts). No foreign keys: rows arrive after the fact
 * and must never make a batch fail or hold a merchant's or key's row. The list reads a tenant's
 * rows newest first by `(merchant_id, livemode, id)`; the retention prune deletes by the primary
 * key, as request ids sort by time.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('api_requests')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('merchant_id', 'text', (col) => col.notNull())
    .addColumn('livemode', 'boolean', (col) => col.notNull())
    .addColumn('api_key_id', 'text', (col) => col.notNull())
    .addColumn('method', 'text', (col) => col.notNull())
    .addColumn('path', 'text', (col) => col.notNull())
    .addColumn('operation_id', 'text')
    .addColumn('status', 'smallint', (col) => col.notNull())
    .addColumn('error_type', 'text')
    .addColumn('error_code', 'text')
    .addColumn('error_message', 'text')
    .addColumn('error_param', 'text')
    .addColumn('idempotency_key', 'text')
    .addColumn('duration_ms', 'integer', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull())
    .execute();
  await sql`create index api_requests_tenant_idx on api_requests (merchant_id, livemode, id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('api_requests').execute();
}
