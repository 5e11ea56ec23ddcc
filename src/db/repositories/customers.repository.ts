import { sql } from 'kysely';
import type { Executor, Tenant } from '../database';
import type { Customer, CustomerAddress, NewCustomer } from '../tables/customers.table';
import type { Family } from '../../domain/networks';

/** The next global address index (one HD child per customer, shared by every family). */
export async function nextAddressIndex(db: Executor): Promise<number> {
  const { rows } = await sql<{ index: string }>`select nextval('customer_address_index_seq') as index`.execute(db);
  return Number(rows[0]!.index);
}

export async function insertCustomer(db: Executor, customer: NewCustomer): Promise<Customer> {
  return db.insertInto('customers').values(customer).returningAll().executeTakeFirstOrThrow();
}

export async function insertCustomerAddresses(db: Executor, addresses: CustomerAddress[]): Promise<void> {
  await db.insertInto('customer_addresses').values(addresses).execute();
}

export async function findCustomer(db: Executor, tenant: Tenant, id: string): Promise<Customer | undefined> {
  return db
    .selectFrom('customers')
    .selectAll()
    .where('id', '=', id)
    .where('merchant_id', '=', tenant.merchantId)
    .where('livemode', '=', tenant.livemode)
    .executeTakeFirst();
}

/** One page, newest first: ids sort by creation time, so the cursor is simply the last id. */
export async function listCustomers(db: Executor, tenant: Tenant, page: { limit: number; startingAfter?: string }): Promise<Customer[]> {
  let query = db
    .selectFrom('customers')
    .selectAll()
    .where('merchant_id', '=', tenant.merchantId)
    .where('livemode', '=', tenant.livemode)
    .orderBy('id', 'desc')
    .limit(page.limit);
  if (page.startingAfter) query = query.where('id', '<', page.startingAfter);
  return query.execute();
}

export async function addressesOfCustomers(db: Executor, tenant: Tenant, customerIds: string[]): Promise<Map<string, Record<Family, string>>> {
  const byCustomer = new Map<string, Record<Family, string>>();
  if (customerIds.length === 0) return byCustomer;
  const rows = await db
    .selectFrom('customer_addresses')
    .select(['customer_id', 'family', 'address'])
    .where('merchant_id', '=', tenant.merchantId)
    .where('livemode', '=', tenant.livemode)
    .where('customer_id', 'in', customerIds)
    .execute();
  for (const row of rows) {
    const addresses = byCustomer.get(row.customer_id) ?? ({} as Record<Family, string>);
    addresses[row.family] = row.address;
    byCustomer.set(row.customer_id, addresses);
  }
  return byCustomer;
}
