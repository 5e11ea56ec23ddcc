import type { ColumnType, Insertable, Selectable, Updateable } from 'kysely';
import type { Family } from '../domain/networks';

export interface CustomersTable {
  id: string;
  merchant_id: string;
  livemode: boolean;
  email: string | null;
  name: string | null;
  external_id: string | null;
  metadata: ColumnType<Record<string, string>, string, string>;
  address_index: number;
  /** The BIP-44 account whose xpub derived the addresses (0 so far); indexes are unique per (livemode, account). */
  address_account: ColumnType<number, number | undefined, never>;
  created_at: ColumnType<Date, Date | undefined, never>;
  /** Set by DELETE /customers/:id: hidden from lists, never updated again, its addresses still credited. */
  archived_at: Date | null;
}

export interface CustomerAddressesTable {
  customer_id: string;
  family: Family;
  address: string;
  livemode: boolean;
  merchant_id: string;
}

export type Customer = Selectable<CustomersTable>;
export type NewCustomer = Insertable<CustomersTable>;
export type CustomerUpdate = Updateable<CustomersTable>;
export type CustomerAddress = Selectable<CustomerAddressesTable>;

/** The tables of customers and their addresses, as the `Database` type joins them (db/database.ts). */
export interface CustomerTables {
  customers: CustomersTable;
  customer_addresses: CustomerAddressesTable;
}
