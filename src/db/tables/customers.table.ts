import type { ColumnType, Insertable, Selectable } from 'kysely';
import type { Family } from '../../domain/networks';

export interface CustomersTable {
  id: string;
  merchant_id: string;
  livemode: boolean;
  email: string | null;
  name: string | null;
  external_id: string | null;
  metadata: ColumnType<Record<string, string>, string, string>;
  address_index: number;
  created_at: ColumnType<Date, Date | undefined, never>;
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
export type CustomerAddress = Selectable<CustomerAddressesTable>;
