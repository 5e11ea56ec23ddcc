import type { FeeBasis } from '../domain/fees';
import type { ColumnType, Insertable, Selectable } from 'kysely';

type Numeric = ColumnType<string, string | bigint, never>;
type Created = ColumnType<Date, Date | undefined, never>;
type Updated = ColumnType<Date, Date | undefined, Date>;

/**
 * - `requires_approval`: worth more than INFLOW_PAYOUT_APPROVAL_ABOVE_USD: held, waiting for another key to approve it (cancelable);
 * - `pending`: recorded, its amount and fee held; its workflow has not sent anything yet (cancelable);
 * - `queued`: waiting for the hot wallet to hold enough (cancelable);
 * - `sending`: its transaction's nonce is taken and it is being signed (no longer cancelable);
 * - `broadcast`: sent, waiting for the network's confirmations (a reorg keeps it here);
 * - `completed`: final on the chain, booked in the ledger;
 * - `failed` (reverted, refused by the signer) and `canceled`: nothing left, nothing held.
 */
export const payoutStatuses = ['requires_approval', 'pending', 'queued', 'sending', 'broadcast', 'completed', 'failed', 'canceled'] as const;
export type PayoutStatus = (typeof payoutStatuses)[number];
/** The statuses that hold the payout's amount and fee out of the merchant's available balance. */
export const inFlightStatuses = ['requires_approval', 'pending', 'queued', 'sending', 'broadcast'] as const satisfies readonly PayoutStatus[];
/** Before anything is signed: the merchant may still cancel. */
export const cancelableStatuses = ['requires_approval', 'pending', 'queued'] as const satisfies readonly PayoutStatus[];
/** What the workflow may send: approved (or needing no approval), not yet sent. */
export const sendableStatuses = ['pending', 'queued'] as const satisfies readonly PayoutStatus[];

export interface PayoutsTable {
  id: string;
  merchant_id: string;
  livemode: boolean;
  network: string;
  currency: string;
  decimals: number;
  /** What the destination receives, in base units. */
  amount: Numeric;
  /**
   * What the operator charges for sending it, in the same currency's base units: held as it is; with
   * `fee_basis` measured, the most it may be until the payout completes, then what was charged.
   */
  fee: ColumnType<string, string | bigint, string | bigint>;
  /** `fixed`: the fee is the operator's fixed fee; `measured`: the network cost of its transaction, up to the fee held. */
  fee_basis: ColumnType<FeeBasis, FeeBasis | undefined, never>;
  destination: string;
  external_id: string | null;
  metadata: ColumnType<Record<string, string>, string, string>;
  /** A refund's deposit. */
  deposit_id: string | null;
  /** What the amount was worth in USD when the payout was made (the daily limit and the approval threshold are in USD). */
  amount_usd_cents: Numeric;
  created_by_key_id: string;
  approved_by_key_id: ColumnType<string | null, string | null | undefined, string | null>;
  approved_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  status: PayoutStatus;
  /** The API's MAC of the exact terms (src/treasury/payout-authorization.ts), checked by the signer. */
  authorization: string;
  transaction_hash: string | null;
  failure_reason: string | null;
  workflow_id: string;
  created_at: Created;
  updated_at: Updated;
  broadcast_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  completed_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export type Payout = Selectable<PayoutsTable>;
export type NewPayout = Insertable<PayoutsTable>;

/** The tables of payouts, as the `Database` type joins them (db/database.ts). */
export interface PayoutTables {
  payouts: PayoutsTable;
}
