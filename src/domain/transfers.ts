/**
 * A transfer to one of a merchant's addresses as a chain watcher (or the test-mode simulator) hands
 * it to a deposit's workflow, and what watchers report about its block afterwards. Plain data: it
 * crosses into workflows (workflows/definitions.ts) and Temporal's JSON payloads.
 */

/** A transfer to a customer's address, as detected on-chain or simulated. */
export interface DepositTransfer {
  depositId: string;
  merchantId: string;
  livemode: boolean;
  /** Whose address it was paid to: a customer's, an order's (possibly made for a customer), or both. */
  customerId: string | null;
  orderId?: string | null;
  network: string;
  currency: string;
  decimals: number;
  address: string;
  fromAddress: string | null;
  transactionHash: string;
  logIndex: number;
  /** Recorded before transfers were numbered by the chain alone: `logIndex` is the old, configuration-dependent ordinal. */
  legacyLogIndex?: boolean;
  blockNumber: number | null;
  blockHash: string | null;
  /** When that block was made, on the chain's clock, in ms since the epoch (absent for simulated transfers and from earlier inflows). */
  blockTime?: number | null;
  /** Base units, as a decimal string (bigint does not cross Temporal's JSON payloads). */
  amount: string;
  requiredConfirmations: number;
  simulated: boolean;
}

/** What a chain watcher (or the test-mode simulator) reports about a deposit's block. */
export interface ConfirmationReport {
  confirmations: number;
  /** The hash of the block the deposit is in, as the reporter sees it. */
  blockHash: string | null;
  /** That block's number (absent from reports an earlier inflow made, and from simulated ones). */
  blockNumber?: number | null;
  /**
   * False when the deposit's transaction is gone for good: out of the canonical chain (or in it
   * without paying) for the network's depth past where it was. Watchers never report a reorg
   * on one observation: the same transaction is usually mined again within a block or two.
   */
  canonical: boolean;
}
