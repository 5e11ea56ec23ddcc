/**
 * What a chain watcher needs from a chain, whatever its family: the head, the transfers to watched
 * addresses in a range of blocks, and where a pending deposit's transaction stands now. One
 * implementation per family (chains/evm/, chains/tron/), as BTCPay has one handler per payment
 * method; the watcher's activity and workflow know only this interface.
 */
import { modeOf } from '../domain/mode';

/** A transfer found on-chain, in the family's own address encoding (EIP-55 hex, base58check `T…`). */
export interface DetectedTransfer {
  transactionHash: string;
  /**
   * The transfer's log's position among all the logs of its own transaction's receipt (0, 1, …),
   * NATIVE_LOG_INDEX for the transaction's own native value, or an internal transfer's number
   * (internalTransferIndex): set by the chain alone, so no configuration change can shift it, and
   * not block-wide, so a transaction that a reorg moves to another block keeps this number and
   * stays the same deposit.
   */
  logIndex: number;
  blockNumber: number;
  blockHash: string;
  from: string;
  to: string;
  /** Base units (wei, sun, token units), as a decimal string. */
  amount: string;
  currency: string;
}

/** Native transfers have no log: this index keeps them apart from any token transfer. */
export const NATIVE_LOG_INDEX = -1;

/**
 * Native coin a contract sends while a transaction runs (an "internal transfer": a Safe or
 * ERC-4337 wallet paying out, an exchange's batch withdrawal, any `call{value:}`) is in no
 * transaction's own value and in no log, only in the transaction's call tree. Its number is
 * `-2 - k` for the k-th (from 0) such transfer of the transaction: the call frames below the
 * transaction's own that moved native coin (value > 0) and took effect (neither they nor any frame
 * above them failed, in a transaction that succeeded), in depth-first order of the call tree as
 * the chain ran it. EVM chains count CALL and SELFDESTRUCT frames (a call trace's order);
 * Tron counts `call` and `suicide` internal transactions carrying TRX, in their transaction
 * info's order (java-tron records them depth-first). The chain alone sets the number: the same
 * trace numbers the same, whichever addresses are watched, and it never meets a log's (≥ 0) or
 * NATIVE_LOG_INDEX.
 */
export function internalTransferIndex(k: number): number {
  return NATIVE_LOG_INDEX - 1 - k;
}

/** Which internal transfer of its transaction a number names (k), or undefined when it names none. */
export function internalTransferOrdinal(logIndex: number): number | undefined {
  return logIndex < NATIVE_LOG_INDEX ? NATIVE_LOG_INDEX - 1 - logIndex : undefined;
}

/** Chain order within one transaction: its own native value, then its internal transfers in call order, then its logs. */
export function compareWithinTransaction(a: number, b: number): number {
  const kind = (logIndex: number) => (logIndex === NATIVE_LOG_INDEX ? 0 : logIndex < 0 ? 1 : 2);
  return kind(a) - kind(b) || Math.abs(a) - Math.abs(b);
}

/** A token contract to watch for transfers, in the family's address encoding. */
export interface TokenContract {
  currency: string;
  address: string;
}

/**
 * Which of these recipients belong to a customer or an order (the watcher asks the database). The
 * adapter asks in its match form, and the answer is in that form: EVM adapters in lower case, as
 * nodes write addresses (evm/addresses.ts); the transfers they return carry EIP-55.
 */
export type WatchedAddresses = (recipients: string[]) => Promise<ReadonlySet<string>>;

/**
 * What a scan of a block range found, the hash of its last block as read then (the cursor's reorg
 * check), and when each block of the range was made, in ms since the epoch, from the blocks the scan
 * read anyway (orders judge payments by it; the cursor keeps the last one's).
 */
export interface ScannedRange {
  transfers: DetectedTransfer[];
  toBlockHash: string;
  blockTimes: ReadonlyMap<number, number>;
}

export interface ChainAdapter {
  /** The widest block range transfersTo accepts now (it may shrink when a node caps its answers). */
  readonly maxBlockRange: number;
  /** The newest block the node has, straight from the node. */
  head(): Promise<number>;
  /** On chains that have one (EVM's `safe` tag), the newest block the node holds safe from reorgs: a rollup's blocks posted to L1. */
  safeHead?(): Promise<number>;
  /**
   * The successful transfers to watched addresses in blocks `fromBlock`..`toBlock` (inclusive),
   * ordered by block and position. A block the node does not have, or an answer it cannot read,
   * fails the call: a round is retried, never a block skipped.
   */
  transfersTo(fromBlock: number, toBlock: number, watched: WatchedAddresses): Promise<ScannedRange>;
  /** When the block was made, in ms since the epoch (the watcher's first start finds its start block by time). */
  blockTimestamp(number: number): Promise<number>;
  /** The canonical hash of each block now (null past the node's head), asked together. */
  blockHashes(numbers: number[]): Promise<Array<string | null>>;
  /**
   * Where each recorded transfer's transaction is now (a reorg may have moved it), read again from
   * its receipt, or null where it is in no block; asked together. The inclusion says what the
   * transfer's place in that transaction pays there: a re-inclusion that reverted, or that a
   * transaction ordered before it left paying less or nothing, does not pay the same.
   */
  inclusions(transfers: RecordedTransfer[]): Promise<Array<Inclusion | null>>;
  /**
   * What this adapter cannot see on its chain as configured (say, native coin sent by contracts
   * when the node is not asked for call traces), one sentence each, for the worker to say at
   * start; empty when it sees every kind of transfer it watches for.
   */
  limitations(): string[];
}

/** A transfer as a deposit recorded it, to be found again on the chain. */
export interface RecordedTransfer extends PaidTransfer {
  transactionHash: string;
  logIndex: number;
  /** Deposits recorded before transfers were numbered by the chain alone: found by what they pay, not by number. */
  legacyLogIndex?: boolean;
}

export interface Inclusion {
  blockNumber: number;
  blockHash: string;
  /**
   * What the transfer's place in the transaction pays in this block: null when the transaction
   * failed or nothing readable is there (for a legacy-numbered transfer: when no transfer of the
   * transaction pays the same).
   */
  pays: PaidTransfer | null;
}

export interface PaidTransfer {
  currency: string;
  to: string;
  amount: string;
}

/** Whether an inclusion pays exactly what was recorded. */
export function paysTheSame(recorded: PaidTransfer, paid: PaidTransfer | null): boolean {
  return paid !== null && paid.currency === recorded.currency && paid.to === recorded.to && paid.amount === recorded.amount;
}

/** Whether it pays the same recipient in the same asset, whatever the amount (a re-inclusion that pays less is still theirs). */
export function paysTheSameRecipient(recorded: PaidTransfer, paid: PaidTransfer | null): boolean {
  return paid !== null && paid.currency === recorded.currency && paid.to === recorded.to;
}

/** A node answer the adapter cannot use (an error page, truncated JSON, a block without its fields, another block's data). */
export class MalformedNodeAnswerError extends Error {
  override readonly name = 'MalformedNodeAnswerError';
}

/** A watched chain (a network in one mode) and the confirmations that make its deposits final. */
export interface WatchedChainAdapter {
  adapter: ChainAdapter;
  requiredConfirmations: number;
  /** Per currency, the smallest amount to a customer that is credited, in base units; below it a transfer is recorded as dust. */
  dustThresholds: Record<string, bigint>;
  /** Where the watcher's first start scans from, when the operator says so. */
  startBlock?: number | undefined;
}

/** The key of a watched chain. */
export function chainKey(chain: { network: string; livemode: boolean }): string {
  return `${modeOf(chain.livemode)}:${chain.network}`;
}
