import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

type Numeric = ColumnType<string, string | bigint, string | bigint>;
type NullableNumeric = ColumnType<string | null, string | bigint | null | undefined, string | bigint | null>;
type Created = ColumnType<Date, Date | undefined, never>;
type Updated = ColumnType<Date, Date | undefined, Date>;

export type SweepStatus = 'pending' | 'topping_up' | 'sending' | 'completed' | 'skipped' | 'failed';
/** Tron's token sweeps may borrow energy from the gas wallet's stake: lent before the transfer, taken back after it. */
export type SentPurpose = SweepPurpose | 'payout';
/** The transactions a sweep may send. */
export type SweepPurpose = 'gas_topup' | 'sweep' | 'energy_delegation' | 'energy_reclaim';
export type SentStatus = 'allocated' | 'signed' | 'broadcast' | 'confirmed' | 'failed' | 'refused';
export type HoldingsKind =
  'deposit' | 'reversal' | 'gas_topup' | 'sweep' | 'network_fee' | 'energy_delegation' | 'energy_reclaim' | 'gas_funding' | 'payout' | 'treasury_funding';
/**
 * Debit-positive: an asset account's balance is what it holds; `received` is what customers paid in
 * and `funding` what the operator put into the gas wallet, both from outside (negative); `paid_out`
 * what payouts sent outside (positive).
 */
export type HoldingsAccount = 'deposit_addresses' | 'gas_wallet' | 'treasury' | 'network_fees' | 'received' | 'funding' | 'paid_out';

export interface SweepsTable {
  id: string;
  livemode: boolean;
  network: string;
  currency: string;
  decimals: number;
  address: string;
  address_branch: 'customers' | 'orders';
  address_index: number;
  merchant_id: string;
  treasury: string;
  /** What the sweep moves, in base units: set once the balance is read. */
  amount: NullableNumeric;
  status: SweepStatus;
  /** Tron: how its transfer's energy is paid, decided once when it is prepared (lent from the gas wallet's stake, or TRX burned); else null. */
  energy_source: ColumnType<'delegation' | 'burn' | null, 'delegation' | 'burn' | null | undefined, 'delegation' | 'burn' | null>;
  failure_reason: string | null;
  workflow_id: string;
  created_at: Created;
  updated_at: Updated;
  completed_at: Date | null;
}

export interface TreasuryTransactionsSentTable {
  id: string;
  /** Whose transaction it is: a sweep's or a payout's (exactly one is set). */
  sweep_id: string | null;
  payout_id: ColumnType<string | null, string | null | undefined, never>;
  purpose: SentPurpose;
  livemode: boolean;
  network: string;
  from_address: string;
  to_address: string;
  /** Null once refused (the signer would not sign, and the nonce went back to its sender), and on Tron, which has none. */
  nonce: ColumnType<string | null, string | bigint | number | undefined, null>;
  /** What the signer was (or is to be) asked to sign: kept so a retry asks for exactly the same bytes. */
  request: ColumnType<Record<string, unknown>, string, string>;
  signed_transaction: string | null;
  hash: string | null;
  status: SentStatus;
  block_number: ColumnType<string | null, string | bigint | null | undefined, string | bigint | null>;
  gas_used: NullableNumeric;
  fee: NullableNumeric;
  /** The next version's request (a higher fee, the same nonce), recorded before the signer is asked. */
  replacement_request: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  /** How many earlier versions this one replaced. */
  replacements: Generated<number>;
  /** The head when the current version was signed: a transaction is stuck counted from here. */
  broadcast_block: ColumnType<string | null, string | bigint | null | undefined, string | bigint | null>;
  /** Tron: when the current version expires; unmined once the solidified chain is past it, it never can be, and is built again. */
  expires_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  created_at: Created;
  updated_at: Updated;
}

/** A version of a sent transaction replaced by a higher fee: it may still be the one mined. */
export interface TreasurySentReplacedTable {
  sent_id: string;
  version: number;
  livemode: boolean;
  network: string;
  hash: string;
  request: ColumnType<Record<string, unknown>, string, never>;
  signed_transaction: string;
  replaced_at: Created;
}

/** A sender's nonce given back (its transaction refused) while later ones were taken: the next allocation takes it. */
export interface ReleasedNoncesTable {
  livemode: boolean;
  network: string;
  address: string;
  nonce: ColumnType<string, string | bigint, never>;
  released_at: Created;
}

export interface SendingNoncesTable {
  livemode: boolean;
  network: string;
  address: string;
  next_nonce: ColumnType<string, string | bigint | number, string | bigint | number>;
}

export interface HoldingsTransactionsTable {
  id: string;
  livemode: boolean;
  network: string;
  kind: HoldingsKind;
  source_id: string;
  created_at: Created;
}

export interface HoldingsEntriesTable {
  id: Generated<string>;
  transaction_id: string;
  account: HoldingsAccount;
  livemode: boolean;
  network: string;
  currency: string;
  address: string | null;
  amount: Numeric;
}

export interface ReconciliationMismatchesTable {
  id: Generated<string>;
  run_id: string;
  livemode: boolean;
  network: string;
  account: string;
  address: string;
  currency: string;
  expected: Numeric;
  actual: Numeric;
  found_at: Created;
}

export type Sweep = Selectable<SweepsTable>;
export type NewSweep = Insertable<SweepsTable>;
export type SentTransaction = Selectable<TreasuryTransactionsSentTable>;

/** The treasury's tables, as the `Database` type joins them (db/database.ts). */
export interface TreasuryTables {
  sweeps: SweepsTable;
  treasury_transactions_sent: TreasuryTransactionsSentTable;
  treasury_sent_replaced: TreasurySentReplacedTable;
  sending_nonces: SendingNoncesTable;
  released_nonces: ReleasedNoncesTable;
  holdings_transactions: HoldingsTransactionsTable;
  holdings_entries: HoldingsEntriesTable;
  reconciliation_mismatches: ReconciliationMismatchesTable;
}
