/**
 * Finding deposits in a block range, shared by the chain watcher's rounds (`scanChain`) and the
 * operator's `npm run cli -- chain rescan`: the adapter reads the range, the database says which
 * recipients are customers' or orders', and each transfer found is reported to its deposit
 * workflow. Nothing is booked twice however often a range is scanned: a transfer already recorded
 * is left to its workflow (which the watcher keeps reporting to), and the deposits' unique
 * transfer key and the ledger's unique booking per deposit and inclusion hold whatever happens.
 * Two recorded transfers are not left alone: late money now final, and a transfer a reorg took
 * away that is back on the chain (its deposit is re-opened).
 */
import { ownSentTransactions } from '../treasury/sweeps.repository';
import type { Db } from '../db/database';
import { depositsOfTransactions, matchForm, ownersByAddress, type AddressOwner } from './chains.repository';
import { recordDustDeposit } from '../deposits/transitions';
import type { Deposit } from '../deposits/deposits.table';
import { isLate, isReorged } from '../domain/deposit-state';
import { newId } from '../domain/ids';
import { currencyOn, networks, type Network } from '../domain/networks';
import { reportDetectedTransfer, type WorkflowStarter } from '../workflows/client';
import { confirmationsOf } from './confirmations';
import type { ConfirmationReport, DepositTransfer } from '../workflows/definitions';
import { paysTheSameRecipient, type DetectedTransfer, type WatchedChainAdapter } from './chain-adapter';

export interface RangeScan {
  /** Transfers to watched addresses reported to a deposit workflow (new ones, late ones now final, re-opened ones). */
  detected: number;
  /** New transfers to customers below their currency's dust threshold, recorded as dust and nothing more. */
  dust: number;
  /** Transfers found that were recorded already and left to their workflows. */
  known: number;
  /** The hash of the range's last block as the scan read it. */
  toBlockHash: string;
  /** When that block was made (ms since the epoch). */
  toBlockTime: number;
}

export async function scanRange(
  deps: WorkflowStarter & { db: Db },
  chain: WatchedChainAdapter & { network: Network; livemode: boolean },
  range: { fromBlock: number; toBlock: number; head: number; safeHead?: number | undefined },
): Promise<RangeScan> {
  const { db } = deps;
  const { family } = networks[chain.network];
  // The adapter asks which recipients are watched, in its match form (EVM: lower case); their
  // owners are kept for the deposits in that form, whatever case the transfers it keeps carry.
  const owners = new Map<string, AddressOwner>();
  const scanned = await chain.adapter.transfersTo(range.fromBlock, range.toBlock, async (recipients) => {
    const found = await ownersByAddress(db, chain.livemode, family, recipients);
    for (const owner of found) owners.set(owner.match, owner);
    return new Set(found.map((owner) => owner.match));
  });
  const recorded = await depositsOfTransactions(
    db,
    chain.livemode,
    chain.network,
    scanned.transfers.map((transfer) => transfer.transactionHash),
  );
  // A gas top-up inflow sent to a deposit address is the operator's own money, not a payment.
  const ownSends = await ownSentTransactions(
    db,
    chain.livemode,
    chain.network,
    scanned.transfers.map((transfer) => transfer.transactionHash),
  );
  const { blockTimes } = scanned;
  const claimed = new Set<string>();
  let detected = 0;
  let known = 0;
  let dust = 0;
  for (const transfer of scanned.transfers) {
    const owner = owners.get(matchForm(family, transfer.to));
    const currency = currencyOn(chain.network, transfer.currency);
    if (!owner || !currency) continue;
    const report: ConfirmationReport = {
      confirmations: confirmationsOf(transfer.blockNumber, range, chain.requiredConfirmations),
      blockHash: transfer.blockHash,
      blockNumber: transfer.blockNumber,
      canonical: true,
    };
    const existing = recordedDepositOf(transfer, recorded, claimed);
    if (!existing && ownSends.has(transfer.transactionHash)) {
      known++;
      continue;
    }
    if (existing && isReorged({ status: existing.status, failureReason: existing.failure_reason })) {
      if (!paysTheSameRecipient(paidBy(existing), transfer)) {
        known++;
        continue;
      }
      // Back on the chain: a new run of its workflow re-opens it at this block, for what it pays here.
      await reportDetectedTransfer(deps, { ...transferOf(existing), ...inclusionOf(transfer), blockTime: blockTimes.get(transfer.blockNumber)! }, report, {
        reincluded: true,
      });
      detected++;
      continue;
    }
    if (existing && !(isLate({ status: existing.status, failureReason: existing.failure_reason }) && report.confirmations >= existing.required_confirmations)) {
      known++;
      continue;
    }
    // New, or late money now final: signal-with-start finds a running workflow or starts one.
    const deposit: DepositTransfer = existing
      ? transferOf(existing)
      : {
          depositId: newId('deposit'),
          merchantId: owner.merchant_id,
          livemode: chain.livemode,
          customerId: owner.customer_id,
          orderId: owner.order_id,
          network: chain.network,
          currency: transfer.currency,
          decimals: currency.decimals,
          address: transfer.to,
          fromAddress: transfer.from,
          transactionHash: transfer.transactionHash,
          logIndex: transfer.logIndex,
          blockNumber: transfer.blockNumber,
          blockHash: transfer.blockHash,
          blockTime: blockTimes.get(transfer.blockNumber)!,
          amount: transfer.amount,
          requiredConfirmations: chain.requiredConfirmations,
          simulated: false,
        };
    // Dust to a customer is recorded and nothing more; an order's payment was asked for, whatever its size.
    if (!existing && !owner.order_id && BigInt(transfer.amount) < (chain.dustThresholds[transfer.currency] ?? 0n)) {
      if (await recordDustDeposit(db, deposit)) dust++;
      else known++;
      continue;
    }
    await reportDetectedTransfer(deps, deposit, report);
    detected++;
  }
  return { detected, known, dust, toBlockHash: scanned.toBlockHash, toBlockTime: blockTimes.get(range.toBlock)! };
}

/**
 * The deposit recorded for a transfer found on-chain: the one with its number; else, for a token
 * transfer, one recorded before transfers were numbered by the chain alone that pays the same
 * (each claimed once, in order, so two equal transfers in one transaction stay two deposits).
 */
function recordedDepositOf(transfer: DetectedTransfer, recorded: Deposit[], claimed: Set<string>): Deposit | undefined {
  const ofTransaction = recorded.filter((deposit) => deposit.transaction_hash === transfer.transactionHash);
  const numbered = ofTransaction.find((deposit) => !deposit.legacy_log_index && deposit.log_index === transfer.logIndex);
  // Legacy numbers were token transfers' only: native and internal transfers are found by number.
  if (numbered || transfer.logIndex < 0) return numbered;
  const legacy = ofTransaction.find(
    (deposit) =>
      deposit.legacy_log_index &&
      !claimed.has(deposit.id) &&
      deposit.currency === transfer.currency &&
      deposit.address === transfer.to &&
      deposit.amount === transfer.amount,
  );
  if (legacy) claimed.add(legacy.id);
  return legacy;
}

/** What a recorded deposit says its transfer pays. */
export function paidBy(deposit: Deposit): { currency: string; to: string; amount: string } {
  return { currency: deposit.currency, to: deposit.address, amount: deposit.amount };
}

/** A transfer's place on the chain and what it pays there, for a deposit found again. */
export function inclusionOf(found: { blockNumber: number; blockHash: string; amount: string }): Pick<DepositTransfer, 'blockNumber' | 'blockHash' | 'amount'> {
  return { blockNumber: found.blockNumber, blockHash: found.blockHash, amount: found.amount };
}

/** The transfer a recorded deposit was made from, to start its workflow again (late money). */
export function transferOf(deposit: Deposit): DepositTransfer {
  return {
    depositId: deposit.id,
    merchantId: deposit.merchant_id,
    livemode: deposit.livemode,
    customerId: deposit.customer_id,
    orderId: deposit.order_id,
    network: deposit.network,
    currency: deposit.currency,
    decimals: deposit.decimals,
    address: deposit.address,
    fromAddress: deposit.from_address,
    transactionHash: deposit.transaction_hash,
    logIndex: deposit.log_index,
    ...(deposit.legacy_log_index ? { legacyLogIndex: true } : {}),
    blockNumber: deposit.block_number === null ? null : Number(deposit.block_number),
    blockHash: deposit.block_hash,
    blockTime: deposit.block_time?.getTime() ?? null,
    amount: deposit.amount,
    requiredConfirmations: deposit.required_confirmations,
    simulated: deposit.simulated,
  };
}
