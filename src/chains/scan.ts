/**
 * Finding deposits in a block range, shared by the chain watcher's rounds (`scanChain`) and the
 * operator's `npm run cli -- chain rescan`: the adapter reads the range, the database says which
 * recipients are customers' or orders', and each transfer found is reported to its deposit
 * workflow. Nothing is booked twice however often a range is scanned: a transfer already recorded
 * is left to its workflow (which the watcher keeps reporting to), and the deposits' unique
 * transfer key and the ledger's unique booking per deposit hold whatever happens.
 */
import type { Db } from '../db/database';
import { depositsOfTransfers, ownersByAddress, type AddressOwner } from '../db/repositories/chains.repository';
import type { Deposit } from '../db/tables/deposits.table';
import { isLate } from '../domain/deposit-state';
import { newId } from '../domain/ids';
import { currencyOn, networks, type Network } from '../domain/networks';
import { reportDetectedTransfer, type WorkflowStarter } from '../workflows/client';
import type { ConfirmationReport, DepositTransfer } from '../workflows/definitions';
import type { WatchedChainAdapter } from './chain-adapter';

export interface RangeScan {
  /** Transfers to watched addresses reported to a deposit workflow (new ones, and late ones now final). */
  detected: number;
  /** Transfers found that were recorded already and left to their workflows. */
  known: number;
  /** The hash of the range's last block as the scan read it. */
  toBlockHash: string;
}

export async function scanRange(
  deps: WorkflowStarter & { db: Db },
  chain: WatchedChainAdapter & { network: Network; livemode: boolean },
  range: { fromBlock: number; toBlock: number; head: number },
): Promise<RangeScan> {
  const { db } = deps;
  const { family } = networks[chain.network];
  // The adapter asks which recipients are watched; their owners are kept for the deposits.
  const owners = new Map<string, AddressOwner>();
  const scanned = await chain.adapter.transfersTo(range.fromBlock, range.toBlock, async (recipients) => {
    for (const owner of await ownersByAddress(db, chain.livemode, family, recipients)) owners.set(owner.address, owner);
    return new Set(owners.keys());
  });
  const recorded = await depositsOfTransfers(db, chain.livemode, chain.network, scanned.transfers);
  let detected = 0;
  let known = 0;
  for (const transfer of scanned.transfers) {
    const owner = owners.get(transfer.to);
    const currency = currencyOn(chain.network, transfer.currency);
    if (!owner || !currency) continue;
    const report: ConfirmationReport = { confirmations: Math.max(0, range.head - transfer.blockNumber + 1), blockHash: transfer.blockHash, canonical: true };
    const existing = recorded.get(`${transfer.transactionHash}:${transfer.logIndex}`);
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
          amount: transfer.amount,
          requiredConfirmations: chain.requiredConfirmations,
          simulated: false,
        };
    await reportDetectedTransfer(deps, deposit, report);
    detected++;
  }
  return { detected, known, toBlockHash: scanned.toBlockHash };
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
    blockNumber: deposit.block_number === null ? null : Number(deposit.block_number),
    blockHash: deposit.block_hash,
    amount: deposit.amount,
    requiredConfirmations: deposit.required_confirmations,
    simulated: deposit.simulated,
  };
}
