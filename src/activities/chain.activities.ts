import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { chainKey, type WatchedChainAdapter } from '../chains/chain-adapter';
import { changesDeposit, confirmationReports } from '../chains/confirmations';
import { scanRange, transferOf } from '../chains/scan';
import { firstBlockToScan } from '../chains/start-block';
import type { Db } from '../db/database';
import { findCursor, saveCursor, watchedDeposits } from '../db/repositories/chains.repository';
import { isLate } from '../domain/deposit-state';
import { networks, type Network } from '../domain/networks';
import { reportConfirmations, reportDetectedTransfer, type WorkflowStarter } from '../workflows/client';
import { activityFailureTypes, LATE_MONEY_WINDOW_MS, REVERSAL_WINDOW_MS, type ChainActivities, type ScanResult } from '../workflows/definitions';

/**
 * One round of a chain watcher: scan from the cursor towards the head, start (or find) a deposit
 * workflow per transfer to a customer or an order, report confirmations and reorgs to every
 * deposit still listening, and only then advance the durable cursor. A round interrupted anywhere
 * is simply run again: workflow ids and the deposits' unique transfer key make every step
 * idempotent. It knows chains only through the ChainAdapter interface.
 */
export function createChainActivities(deps: WorkflowStarter & { db: Db; chains: Map<string, WatchedChainAdapter> }): ChainActivities {
  return { scanChain: (input) => whileHeartbeating(() => scanRound(deps, input)) };
}

async function scanRound(
  deps: WorkflowStarter & { db: Db; chains: Map<string, WatchedChainAdapter> },
  input: { network: Network; livemode: boolean },
): Promise<ScanResult> {
  const { db } = deps;
  const chain = deps.chains.get(chainKey(input));
  if (!chain)
    throw ApplicationFailure.create({
      type: activityFailureTypes.chainNotConfigured,
      message: `no node is configured for ${chainKey(input)}`,
      nonRetryable: true,
    });
  const { adapter, requiredConfirmations } = chain;
  const head = await adapter.head();
  const saved = await findCursor(db, input.livemode, input.network);
  // A first start begins where money may first have been sent (firstBlockToScan). A cursor past the
  // head (a node that lags, or a devnet that was reset) steps back to it: scanning blocks again is
  // harmless, skipping them is not.
  const cursor = { nextBlock: Math.min(saved?.nextBlock ?? (await firstBlockToScan(db, chain, input.livemode, head)), head + 1) };
  // A reorg that replaced blocks already scanned could hide new transfers in them: rescan as
  // deep as a deposit needs confirmations.
  if (saved?.lastBlockHash && saved.nextBlock - 1 <= head && (await adapter.blockHashes([saved.nextBlock - 1]))[0] !== saved.lastBlockHash) {
    // At least the network's own depth: fewer configured confirmations make reorgs no shallower.
    cursor.nextBlock = Math.max(0, saved.nextBlock - Math.max(requiredConfirmations, networks[input.network].requiredConfirmations));
  }
  const toBlock = Math.min(head, cursor.nextBlock + adapter.maxBlockRange - 1);

  // Nothing new past the cursor: no range to scan this round.
  const scanned =
    toBlock < cursor.nextBlock
      ? undefined
      : await scanRange(deps, { ...chain, network: input.network, livemode: input.livemode }, { fromBlock: cursor.nextBlock, toBlock, head });
  const detected = scanned?.detected ?? 0;

  const listening = (
    await watchedDeposits(db, input.livemode, input.network, { reversalWindowMs: REVERSAL_WINDOW_MS, lateMoneyWindowMs: LATE_MONEY_WINDOW_MS })
  ).filter((deposit) => deposit.block_number !== null);
  const reports = await confirmationReports(
    adapter,
    head,
    listening.map((deposit) => ({ transactionHash: deposit.transaction_hash, blockNumber: Number(deposit.block_number), blockHash: deposit.block_hash })),
  );
  let signalled = 0;
  for (const [i, deposit] of listening.entries()) {
    const report = reports[i];
    if (!report) continue;
    if (isLate({ status: deposit.status, failureReason: deposit.failure_reason })) {
      // Its workflow ended at the timeout; once the chain shows it final, a new run completes it.
      if (report.canonical && report.confirmations >= deposit.required_confirmations) {
        await reportDetectedTransfer(deps, transferOf(deposit), report);
        signalled++;
      }
      continue;
    }
    if (!changesDeposit({ status: deposit.status, confirmations: deposit.confirmations, blockHash: deposit.block_hash }, report)) continue;
    // False when its workflow has finished (the reversal window ended): nothing listens any more.
    const reached = await reportConfirmations(
      deps.temporal,
      { livemode: deposit.livemode, network: deposit.network, transactionHash: deposit.transaction_hash, logIndex: deposit.log_index },
      report,
    );
    if (reached) signalled++;
  }

  const nextBlock = toBlock + 1;
  // The hash of the last block as the scan read it: a reorg right after is caught next round.
  const lastBlockHash = scanned?.toBlockHash ?? saved?.lastBlockHash ?? null;
  await saveCursor(db, input.livemode, input.network, nextBlock, head, lastBlockHash);
  return { head, nextBlock, lag: Math.max(0, head - nextBlock + 1), detected, signalled };
}

const HEARTBEAT_INTERVAL_MS = 5_000;

/** Heartbeats while `work` runs, so Temporal sees a dead worker by the missing beats (heartbeatTimeout). */
async function whileHeartbeating<T>(work: () => Promise<T>): Promise<T> {
  const context = Context.current();
  const timer = setInterval(() => context.heartbeat(), HEARTBEAT_INTERVAL_MS);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
