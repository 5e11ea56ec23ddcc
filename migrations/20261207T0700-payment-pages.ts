import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';

/**
 * The hosted payment page (docs/checkout.md):
 * - `orders.payment_token`: the unguessable part of the page's address, `cs_test_…`/`cs_live_…`
 *   (the mode in the token, so a token edited to the other mode finds nothing); unique.
 * - `orders.payment_url`: the page's address as it was given out when the order was made (the
 *   public origin then). Orders made before this migration get a token, and no URL: their pages
 *   are reachable at /pay/{token} on whatever origin serves inflow, which nothing recorded.
 * - `orders.success_url`, `orders.cancel_url`: where the page sends the payer back to.
 * - `merchants.display_name`, `logo`, `logo_type`: what the page shows of the merchant (the logo's
 *   bytes are kept, so the page serves it from its own origin and the payer's browser never asks a
 *   third party).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('orders')
    .addColumn('payment_token', 'text')
    .addColumn('payment_url', 'text')
    .addColumn('success_url', 'text')
    .addColumn('cancel_url', 'text')
    .execute();
  const orders = await db.selectFrom('orders').select(['id', 'livemode']).execute();
  for (const order of orders) {
    await db
      .updateTable('orders')
      .set({ payment_token: paymentToken(order.livemode as boolean) })
      .where('id', '=', order.id)
      .execute();
  }
  await sql`alter table orders alter column payment_token set not null`.execute(db);
  await sql`create unique index orders_payment_token_idx on orders (payment_token)`.execute(db);
  await db.schema
    .alterTable('merchants')
    .addColumn('display_name', 'text')
    .addColumn('logo', 'bytea')
    .addColumn('logo_type', 'text')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('merchants').dropColumn('display_name').dropColumn('logo').dropColumn('logo_type').execute();
  await db.schema.dropIndex('orders_payment_token_idx').execute();
  await db.schema.alterTable('orders').dropColumn('payment_token').dropColumn('payment_url').dropColumn('success_url').dropColumn('cancel_url').execute();
}

/** As src/orders/payment-token.ts makes them; copied so that this migration never changes with the code. */
function paymentToken(livemode: boolean): string {
  return `cs_${livemode ? 'live' : 'test'}_${randomBytes(24).toString('base64url')}`;
}
