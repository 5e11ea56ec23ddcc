import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

type Numeric = ColumnType<string, string | bigint, never>;

/** A deposit booked, its undoing after a reorg, a payout (or refund) that left. */
export const ledgerKinds = ['deposit', 'reversal', 'payout'] as const;
export type LedgerKind = (typeof ledgerKinds)[number];
/** `customer_deposits` is where deposits come from and `payouts_sent` where payouts go (both outside); `merchant_balance` what is owed. */
export type LedgerAccount = 'customer_deposits' | 'merchant_balance' | 'platform_fees' | 'payouts_sent';

export interface LedgerTransactionsTable {
  id: string;
  /** A deposit's booking or reversal; null for a payout's. */
  deposit_id: string | null;
  /** A payout's booking. */
  payout_id: ColumnType<string | null, string | null | undefined, never>;
  kind: LedgerKind;
  /** The deposit's inclusion this booking belongs to: at most one deposit and one reversal per inclusion. */
  inclusion: ColumnType<number, number | undefined, never>;
  merchant_id: string;
  livemode: boolean;
  network: string;
  currency: string;
  amount_usd_cents: Numeric;
  fee_usd_cents: Numeric;
  created_at: ColumnType<Date, Date | undefined, never>;
}

export interface LedgerEntriesTable {
  id: Generated<string>;
  transaction_id: string;
  account: LedgerAccount;
  merchant_id: string;
  livemode: boolean;
  network: string;
  currency: string;
  amount: Numeric;
}

export type LedgerTransaction = Selectable<LedgerTransactionsTable>;
export type NewLedgerTransaction = Insertable<LedgerTransactionsTable>;
export type NewLedgerEntry = Insertable<LedgerEntriesTable>;

/** The tables of the double-entry ledger, as the `Database` type joins them (db/database.ts). */
export interface LedgerTables {
  ledger_transactions: LedgerTransactionsTable;
  ledger_entries: LedgerEntriesTable;
}
