import type { ColumnType, Insertable, Selectable, Updateable } from 'kysely';
import type { Family } from '../domain/networks';
import type { OrderStatus } from '../domain/order-state';

type NullableNumeric = ColumnType<string | null, string | bigint | null, string | bigint | null>;

export interface OrdersTable {
  id: string;
  merchant_id: string;
  livemode: boolean;
  external_id: string;
  customer_id: string | null;
  status: OrderStatus;
  late: ColumnType<boolean, boolean | undefined, boolean>;
  network: string;
  currency: string;
  decimals: number;
  family: Family;
  address: string;
  address_index: number;
  /** The BIP-44 account whose xpub derived the address (0 so far); indexes are unique per (livemode, account). */
  address_account: ColumnType<number, number | undefined, never>;
  /** Base units of the asset (numeric comes back from pg as a string). */
  amount: ColumnType<string, string | bigint, never>;
  /** Cents of fiat_currency, for orders made in fiat. */
  fiat_amount: NullableNumeric;
  fiat_currency: string | null;
  /** Fiat per whole unit of the asset, locked when the order was made. */
  exchange_rate: string | null;
  expires_at: Date;
  callback_url: string | null;
  callback_events: string[];
  /** The hosted payment page's secret path segment (`cs_test_…`/`cs_live_…`): src/checkout/. */
  payment_token: string;
  /** The page's address as given out when the order was made; null for orders made before pages were. */
  payment_url: string | null;
  /** Where the page sends the payer once the order is completed, and back to before that. */
  success_url: string | null;
  cancel_url: string | null;
  metadata: ColumnType<Record<string, string>, string, string>;
  created_at: ColumnType<Date, Date | undefined, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
  completed_at: Date | null;
}

export type Order = Selectable<OrdersTable>;
export type NewOrder = Insertable<OrdersTable>;
export type OrderUpdate = Updateable<OrdersTable>;

/** The tables of orders, as the `Database` type joins them (db/database.ts). */
export interface OrderTables {
  orders: OrdersTable;
}
