import type { ColumnType, Insertable, Selectable } from 'kysely';
import type { DepositStatus } from '../domain/deposit-state';

/** numeric and bigint columns come back from pg as strings; domain/money turns them into bigint. */
type Numeric = ColumnType<string, string | bigint, string | bigint>;
type NullableNumeric = ColumnType<string | null, string | bigint | null, string | bigint | null>;

export interface DepositsTable {
  id: string;
  merchant_id: string;
  livemode: boolean;
  customer_id: string | null;
  order_id: string | null;
  network: string;
  currency: string;
  decimals: number;
  address: string;
  from_address: string | null;
  transaction_hash: string;
  log_index: number;
  /** `log_index` is the configuration-dependent ordinal of rows recorded before 2026-12-06 (EVM tokens): found by content, not number. */
  legacy_log_index: ColumnType<boolean, boolean | undefined, boolean>;
  /** 0 at first; +1 each time a reorg took the transfer out and the chain mined it again (its bookings are per inclusion). */
  inclusion: ColumnType<number, number | undefined, number>;
  block_number: NullableNumeric;
  block_hash: string | null;
  /** When its block was made, on the chain's clock (null for simulated deposits and ones recorded before 2026-12-06). */
  block_time: ColumnType<Date | null, Date | null | undefined, Date | null>;
  amount: Numeric;
  fee: NullableNumeric;
  net_amount: NullableNumeric;
  /** What completed refunds sent back (docs/payouts.md#refunds). */
  amount_refunded: ColumnType<string, string | bigint | undefined, string | bigint>;
  price_usd: string | null;
  amount_usd_cents: NullableNumeric;
  fee_usd_cents: NullableNumeric;
  confirmations: ColumnType<number, number | undefined, number>;
  required_confirmations: number;
  status: DepositStatus;
  failure_reason: string | null;
  simulated: boolean;
  reversed_at: Date | null;
  created_at: ColumnType<Date, Date | undefined, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
  completed_at: Date | null;
}

export type Deposit = Selectable<DepositsTable>;
export type NewDeposit = Insertable<DepositsTable>;

/** The tables of deposits, as the `Database` type joins them (db/database.ts). */
export interface DepositTables {
  deposits: DepositsTable;
}
