import { Context } from '@temporalio/activity';
import { chainKey, type ChainAdapter, type WatchedChainAdapter } from '../chains/chain-adapter';
import { chainTip, confirmationReports, reinclusions, reportEffect } from '../chains/confirmations';
import { FailoverChainAdapter } from '../chains/failover';
import { inclusionOf, paidBy, scanRange, transferOf } from '../chains/scan';
import { firstBlockToScan } from '../chains/start-block';
import type { Db } from '../db/database';
import { findCursor, saveCursor, watchedDeposits } from '../chains/chains.repository';
import { noteConfirmations } from '../deposits/deposits.repository';
import type { Deposit } from '../deposits/deposits.table';
import { isLate, isReorged } from '../domain/deposit-state';
import { activityFailureTypes, StepFailure } from '../domain/failures';
import { networks, type Network } from '../domain/networks';
import { reportConfirmations, reportDetectedTransfer, type WorkflowStarter } from '../workflows/client';
import { LATE_MONEY_WINDOW_MS, REVERSAL_WINDOW_MS, type ChainActivities, type ScanResult } from '../workflows/definitions';
import { withActivityFailures } from './failures';

/**
 * One round of a chain watcher: scan from the cursor towards the head, start (or find) a deposit
 * workflow per transfer to a customer or an order, report confirmations and reorgs to every
 * deposit still listening, and only then advance the durable cursor. A round interrupted anywhere
 * is simply run again: workflow ids and the deposits' unique transfer key make every step
 * idempotent. It knows chains only through the ChainAdapter interface.
 */
export function createChainActivities(deps: WorkflowStarter & { db: Db; chains: Map<string, WatchedChainAdapter> }): ChainActivities {
  return withActivityFailures({ scanChain: (input) => whileHeartbeating(() => scanRound(deps, input)) });
}

async function scanRound(
  deps: WorkflowStarter & { db: Db; chains: Map<string, WatchedChainAdapter> },
  input: { network: Network; livemode: boolean },
): Promise<ScanResult> {
  const { db } = deps;
  const chain = deps.chains.get(chainKey(input));
  if (!chain) throw new StepFailure(activityFailureTypes.chainNotConfigured, `no node is configured for ${chainKey(input)}`);
  const { adapter } = chain;
  const depth = reorgDepth(chain, input.network);
  // A rollup's deposits complete only at or below its safe block (confirmationsOf).
  const { head, safeHead } = await chainTip(adapter, input.network);
  const saved = await findCursor(db, input.livemode, input.network);
  // A first start begins where money may first have been sent (firstBlockToScan). A cursor past the
  // head (a node that lags, or a devnet that was reset) steps back to it: scanning blocks again is
  // harmless, skipping them is not.
  const cursor = { nextBlock: Math.min(saved?.nextBlock ?? (await firstBlockToScan(db, chain, input.livemode, head)), head + 1) };
  // A reorg that replaced blocks already scanned could hide new transfers in them: rescan as
  // deep as a deposit needs confirmations.
  if (saved?.lastBlockHash && saved.nextBlock - 1 <= head && (await adapter.blockHashes([saved.nextBlock - 1]))[0] !== saved.lastBlockHash) {
    cursor.nextBlock = Math.max(0, saved.nextBlock - depth);
  }
  const toBlock = Math.min(head, cursor.nextBlock + adapter.maxBlockRange - 1);

  // Nothing new past the cursor: no range to scan this round.
  const scanned =
    toBlock < cursor.nextBlock
      ? undefined
      : await scanRange(deps, { ...chain, network: input.network, livemode: input.livemode }, { fromBlock: cursor.nextBlock, toBlock, head, safeHead });
  const detected = scanned?.detected ?? 0;

  const listening = (
    await watchedDeposits(db, input.livemode, input.network, { reversalWindowMs: REVERSAL_WINDOW_MS, lateMoneyWindowMs: LATE_MONEY_WINDOW_MS })
  ).filter((deposit) => deposit.block_number !== null);
  const reorged = listening.filter((deposit) => isReorged({ status: deposit.status, failureReason: deposit.failure_reason }));
  const active = listening.filter((deposit) => !reorged.includes(deposit));
  const reports = await confirmationReports(adapter, { head, safeHead }, depth, active.map(pendingDepositOf));
  let signalled = 0;
  for (const [i, deposit] of active.entries()) {
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
    const effect = reportEffect(
      { status: deposit.status, confirmations: deposit.confirmations, requiredConfirmations: deposit.required_confirmations, blockHash: deposit.block_hash },
      report,
    );
    if (effect === 'none') continue;
    if (effect === 'note') {
      await noteConfirmations(db, deposit.id, deposit.block_hash!, report.confirmations);
      continue;
    }
    if (deposit.status !== 'completed') {
      // Not final: signal-with-start, so a deposit whose workflow ended early is picked up again.
      await reportDetectedTransfer(deps, transferOf(deposit), report);
      signalled++;
      continue;
    }
    // Completed: false when its workflow has finished (the reversal window ended): nothing listens any more.
    const reached = await reportConfirmations(
      deps.temporal,
      { livemode: deposit.livemode, network: deposit.network, transactionHash: deposit.transaction_hash, logIndex: deposit.log_index },
      report,
    );
    if (reached) signalled++;
  }
  // A reorg took these away; any whose transfer the chain has mined again is re-opened by a new run.
  const back = await reinclusions(adapter, { head, safeHead }, reorged.map(pendingDepositOf));
  const backTimes = await blockTimesOf(
    adapter,
    back.flatMap((found) => (found ? [found.blockNumber] : [])),
  );
  for (const [i, deposit] of reorged.entries()) {
    const found = back[i];
    if (!found) continue;
    const blockTime = backTimes.get(found.blockNumber)!;
    await reportDetectedTransfer(deps, { ...transferOf(deposit), ...inclusionOf(found), blockTime }, found.report, { reincluded: true });
    signalled++;
  }

  const nextBlock = toBlock + 1;
  // The hash of the last block as the scan read it: a reorg right after is caught next round. Its
  // time tells orders whether the chain has been read past their deadline.
  const lastBlockHash = scanned?.toBlockHash ?? saved?.lastBlockHash ?? null;
  const lastBlockTime = scanned ? new Date(scanned.toBlockTime) : (saved?.lastBlockTime ?? null);
  // How each node looked this round (several nodes only), for /healthz.
  const nodes = adapter instanceof FailoverChainAdapter ? adapter.nodeStatuses() : null;
  await saveCursor(db, input.livemode, input.network, nextBlock, head, lastBlockHash, lastBlockTime, nodes);
  return { head, nextBlock, lag: Math.max(0, head - nextBlock + 1), detected, signalled };
}

/**
 * How deep a reorg is taken to reach: at least the network's own depth, since fewer configured
 * confirmations make reorgs no shallower. The cursor steps back this far when its block changed,
 * and a vanished transaction is given up only once the chain has grown this far past it.
 */
function reorgDepth(chain: WatchedChainAdapter, network: Network): number {
  return Math.max(chain.requiredConfirmations, networks[network].requiredConfirmations);
}

function pendingDepositOf(deposit: Deposit) {
  return {
    ...paidBy(deposit),
    transactionHash: deposit.transaction_hash,
    logIndex: deposit.log_index,
    legacyLogIndex: deposit.legacy_log_index,
    blockNumber: Number(deposit.block_number),
    blockHash: deposit.block_hash,
    requiredConfirmations: deposit.required_confirmations,
  };
}

/** When each of these blocks was made, on the chain's clock (ms), asked once per block: a re-opened deposit's order judges it by it. */
async function blockTimesOf(adapter: ChainAdapter, numbers: number[]): Promise<Map<number, number>> {
  const distinct = [...new Set(numbers)];
  const times = await Promise.all(distinct.map((number) => adapter.blockTimestamp(number)));
  return new Map(distinct.map((number, i) => [number, times[i]!]));
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
