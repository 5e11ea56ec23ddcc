import { sql, type Kysely } from 'kysely';

/**
 * `webhook_endpoints.x_webhook_signature_format`: what the legacy `X-Webhook-Signature` header is
 * the HMAC of. `compact` (every endpoint so far): the body as sent. `python_json_dumps`: the
 * payload as Python's `json.dumps` writes it, which TotoPay's Python sample verifies.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('webhook_endpoints')
    .addColumn('x_webhook_signature_format', 'text', (col) =>
      col
        .notNull()
        .defaultTo('compact')
        .check(sql`x_webhook_signature_format in ('compact', 'python_json_dumps')`),
    )
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('webhook_endpoints').dropColumn('x_webhook_signature_format').execute();
}
