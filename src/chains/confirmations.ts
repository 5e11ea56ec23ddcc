/**
 * Where pending deposits stand now, for any chain family: still in their block, moved to another
 * by a reorg, or gone; or nothing to say when the node cannot tell yet (a lagging node is not a
 * reorg). A reorg is declared only when the node has another block at that height and the
 * transaction is in no block. The node is asked for all deposits at once, in two batches.
 */
import type { ConfirmationReport } from '../workflows/definitions';
import type { ChainAdapter } from './chain-adapter';

export interface PendingDeposit {
  transactionHash: string;
  blockNumber: number;
  blockHash: string | null;
}

export async function confirmationReports(adapter: ChainAdapter, head: number, deposits: PendingDeposit[]): Promise<Array<ConfirmationReport | undefined>> {
  const confirmationsAt = (number: number) => Math.max(0, head - number + 1);
  const visible = deposits.filter((deposit) => deposit.blockNumber <= head);
  const heights = [...new Set(visible.map((deposit) => deposit.blockNumber))];
  const hashes = new Map<number, string | null>();
  (await adapter.blockHashes(heights)).forEach((hash, i) => hashes.set(heights[i]!, hash));

  // Only a deposit whose block was replaced needs its transaction looked up.
  const moved = visible.filter((deposit) => {
    const canonical = hashes.get(deposit.blockNumber);
    return canonical !== null && canonical !== undefined && canonical !== deposit.blockHash;
  });
  const whereNow = new Map<string, { blockNumber: number; blockHash: string } | null>();
  (await adapter.transactionBlocks(moved.map((deposit) => deposit.transactionHash))).forEach((found, i) => whereNow.set(moved[i]!.transactionHash, found));

  return deposits.map((deposit) => {
    if (deposit.blockNumber > head) return undefined;
    const canonical = hashes.get(deposit.blockNumber);
    if (canonical === null || canonical === undefined) return undefined;
    if (canonical === deposit.blockHash) return { confirmations: confirmationsAt(deposit.blockNumber), blockHash: deposit.blockHash, canonical: true };
    const now = whereNow.get(deposit.transactionHash);
    if (now) return now.blockNumber > head ? undefined : { confirmations: confirmationsAt(now.blockNumber), blockHash: now.blockHash, canonical: true };
    return { confirmations: 0, blockHash: deposit.blockHash, canonical: false };
  });
}

/**
 * Whether a listening deposit's workflow would act on this report, judged by what it has recorded:
 * a reorg always; for a deposit still confirming, more confirmations or another block; a completed
 * one listens for reorgs only. Reporting the rest every round would add a signal and a workflow
 * task to each deposit in its reversal window per round, and keep restarting that window.
 */
export function changesDeposit(deposit: { status: string; confirmations: number; blockHash: string | null }, report: ConfirmationReport): boolean {
  if (!report.canonical) return true;
  if (deposit.status === 'completed') return false;
  return report.confirmations > deposit.confirmations || report.blockHash !== deposit.blockHash;
}
