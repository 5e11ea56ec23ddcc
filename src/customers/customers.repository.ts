import type { ListWindow } from '../api/pagination';
import { sql } from 'kysely';
import type { Executor, Tenant } from '../db/database';
import type { Customer, CustomerAddress, CustomerUpdate, NewCustomer } from './customers.table';
import type { Family } from '../domain/networks';

/**
 * The next address index of the mode (one HD child per customer, shared by every family): each
 * mode has its own sequence, so test-mode creations never use up live's indexes.
 */
export async function nextAddressIndex(db: Executor, livemode: boolean): Promise<number> {
  const sequence = livemode ? 'customer_address_index_live_seq' : 'customer_address_index_test_seq';
  const { rows } = await sql<{ index: string }>`select nextval(${sql.lit(sequence)}) as index`.execute(db);
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

/** The customer, locked until the caller's transaction ends: an update reads, merges and writes it without losing a concurrent one. */
export async function lockCustomerById(db: Executor, tenant: Tenant, id: string): Promise<Customer | undefined> {
  return (
    db
      .selectFrom('customers')
      .selectAll()
      .where('id', '=', id)
      .where('merchant_id', '=', tenant.merchantId)
      .where('livemode', '=', tenant.livemode)
      // Not FOR UPDATE: that would also block inserts of rows that reference it (its foreign keys' KEY SHARE locks).
      .forNoKeyUpdate()
      .executeTakeFirst()
  );
}

export async function updateCustomer(db: Executor, id: string, patch: CustomerUpdate): Promise<Customer> {
  return db.updateTable('customers').set(patch).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

export interface CustomerFilters {
  email?: string | undefined;
  externalId?: string | undefined;
  /** Archived customers only, or (false) those not archived; ignored with `address`. */
  archived: boolean;
  /** The deposit address, as stored (checksummed EVM, base58 Tron), with its family. */
  address?: { family: Family; address: string } | undefined;
  /** A prefix of the email or the name, any letter case (customers_email_prefix_idx, customers_name_prefix_idx). */
  search?: string | undefined;
}

/** One page, newest first: ids sort by creation time, so the cursor is simply the last id. */
export async function listCustomers(db: Executor, tenant: Tenant, filters: CustomerFilters, page: ListWindow): Promise<Customer[]> {
  let query = db
    .selectFrom('customers')
    .selectAll()
    .where('merchant_id', '=', tenant.merchantId)
    .where('livemode', '=', tenant.livemode)
    .orderBy('id', 'desc')
    .limit(page.limit);
  // A deposit address names its customer whether archived or not: money still arrives there.
  if (filters.address) {
    const { family, address } = filters.address;
    query = query.where('id', 'in', (eb) =>
      eb.selectFrom('customer_addresses').select('customer_id').where('family', '=', family).where('address', '=', address),
    );
  } else {
    query = query.where('archived_at', filters.archived ? 'is not' : 'is', null);
  }
  if (filters.search !== undefined) {
    const prefix = `${filters.search.toLowerCase().replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
    query = query.where((eb) => eb.or([eb(sql`lower(email)`, 'like', prefix), eb(sql`lower(name)`, 'like', prefix)]));
  }
  if (filters.email !== undefined) query = query.where('email', '=', filters.email);
  if (filters.externalId !== undefined) query = query.where('external_id', '=', filters.externalId);
  if (page.startingAfter) query = query.where('id', '<', page.startingAfter);
  if (page.createdFrom) query = query.where('created_at', '>=', page.createdFrom);
  if (page.createdBefore) query = query.where('created_at', '<', page.createdBefore);
  return query.execute();
}

/** Every address of the customers, archived ones included (an archived customer's address still receives money). */
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
