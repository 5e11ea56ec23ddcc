import { ApplicationFailure } from '@temporalio/common';
import type { EvmAdapter } from '../chains/evm/evm.adapter';
import type { Db } from '../db/database';
import { findCursor, ownersByAddress, saveCursor, watchedDeposits } from '../db/repositories/chains.repository';
import { newId } from '../domain/ids';
import { modeOf } from '../domain/mode';
import { currencyOn, networks } from '../domain/networks';
import { reportConfirmations, reportDetectedTransfer, type WorkflowStarter } from '../workflows/client';
import { activityFailureTypes, REVERSAL_WINDOW_MS, type ChainActivities, type ConfirmationReport, type DepositTransfer } from '../workflows/definitions';

/** The key of a watched chain (a network in one mode) in the worker's map of node adapters. */
export function chainKey(chain: { network: string; livemode: boolean }): string {
  return `${modeOf(chain.livemode)}:${chain.network}`;
}

/**
 * One round of a chain watcher: scan from the cursor towards the head, start (or find) a deposit
 * workflow per transfer to a customer, report confirmations and reorgs to every deposit still
 * listening, and only then advance the durable cursor. A round interrupted anywhere is simply
 * run again: workflow ids and the deposits' unique transfer key make every step idempotent.
 */
export function createChainActivities(deps: WorkflowStarter & { db: Db; chains: Map<string, EvmAdapter> }): ChainActivities {
  const { db } = deps;
  return {
    async scanChain(input) {
      const adapter = deps.chains.get(chainKey(input));
      if (!adapter) throw ApplicationFailure.create({ type: activityFailureTypes.chainNotConfigured, message: `no node is configured for ${chainKey(input)}` });
      const head = await adapter.head();
      const saved = await findCursor(db, input.livemode, input.network);
      // A first start begins at the head. A cursor past the head (a node that lags, or a devnet that
      // was reset) steps back to it: scanning blocks again is harmless, skipping them is not.
      const cursor = { nextBlock: Math.min(saved?.nextBlock ?? head + 1, head + 1) };
      // A reorg that replaced blocks already scanned could hide new transfers in them: rescan as
      // deep as a deposit needs confirmations.
      if (saved?.lastBlockHash && saved.nextBlock - 1 <= head && (await adapter.blockHash(saved.nextBlock - 1)) !== saved.lastBlockHash) {
        cursor.nextBlock = Math.max(0, saved.nextBlock - networks[input.network].requiredConfirmations);
      }
      const toBlock = Math.min(head, cursor.nextBlock + adapter.maxBlockRange - 1);

      const transfers = await adapter.transfersIn(cursor.nextBlock, toBlock);
      const owners = await ownersByAddress(db, input.livemode, networks[input.network].family, [...new Set(transfers.map((transfer) => transfer.to))]);
      const ownerOf = new Map(owners.map((owner) => [owner.address, owner]));
      let detected = 0;
      for (const transfer of transfers) {
        const owner = ownerOf.get(transfer.to);
        const currency = currencyOn(input.network, transfer.currency);
        if (!owner || !currency) continue;
        const deposit: DepositTransfer = {
          depositId: newId('deposit'),
          merchantId: owner.merchant_id,
          livemode: input.livemode,
          customerId: owner.customer_id,
          orderId: owner.order_id,
          network: input.network,
          currency: transfer.currency,
          decimals: currency.decimals,
          address: transfer.to,
          fromAddress: transfer.from,
          transactionHash: transfer.transactionHash,
          logIndex: transfer.logIndex,
          blockNumber: transfer.blockNumber,
          blockHash: transfer.blockHash,
          amount: transfer.amount,
          requiredConfirmations: networks[input.network].requiredConfirmations,
          simulated: false,
        };
        // A transfer seen again (a restart, an overlapping scan) finds its running workflow.
        await reportDetectedTransfer(deps, deposit, {
          confirmations: Math.max(0, head - transfer.blockNumber + 1),
          blockHash: transfer.blockHash,
          canonical: true,
        });
        detected++;
      }

      let signalled = 0;
      for (const deposit of await watchedDeposits(db, input.livemode, input.network, REVERSAL_WINDOW_MS)) {
        if (deposit.block_number === null) continue;
        const report = await reportFor(adapter, head, deposit.transaction_hash, Number(deposit.block_number), deposit.block_hash);
        if (!report) continue;
        // False when its workflow has finished (the reversal window ended): nothing listens any more.
        const listening = await reportConfirmations(
          deps.temporal,
          { livemode: deposit.livemode, network: deposit.network, transactionHash: deposit.transaction_hash, logIndex: deposit.log_index },
          report,
        );
        if (listening) signalled++;
      }

      const nextBlock = toBlock + 1;
      const lastBlockHash = toBlock >= cursor.nextBlock ? await adapter.blockHash(toBlock) : (saved?.lastBlockHash ?? null);
      await saveCursor(db, input.livemode, input.network, nextBlock, head, lastBlockHash);
      return { head, nextBlock, lag: Math.max(0, head - nextBlock + 1), detected, signalled };
    },
  };
}

/**
 * Where the deposit's transaction stands now: still in its block, moved to another, or gone; or
 * nothing to say (undefined) when the node cannot tell yet: a lagging node is not a reorg. A reorg
 * is declared only when the node has a different block at that height and no receipt.
 */
async function reportFor(
  adapter: EvmAdapter,
  head: number,
  transactionHash: string,
  blockNumber: number,
  blockHash: string | null,
): Promise<ConfirmationReport | undefined> {
  if (blockNumber > head) return undefined;
  const confirmationsAt = (number: number) => Math.max(0, head - number + 1);
  const canonicalHash = await adapter.blockHash(blockNumber);
  if (canonicalHash === null) return undefined;
  if (canonicalHash === blockHash) return { confirmations: confirmationsAt(blockNumber), blockHash, canonical: true };
  const now = await adapter.transactionBlock(transactionHash);
  if (now) return now.blockNumber > head ? undefined : { confirmations: confirmationsAt(now.blockNumber), blockHash: now.blockHash, canonical: true };
  return { confirmations: 0, blockHash, canonical: false };
}
