/**
 * Where recorded deposits stand now, for any chain family: still in their block; moved to another
 * by a reorg (read again there: it must still pay the same); gone for good; or nothing to say yet.
 *
 * A reorg is provisional. After a shallow reorg the orphaned block's transactions go back to the
 * mempool and are usually mined again a block or two later, with the same hash, so a transaction
 * found in no block (or in a block where it no longer pays) is reported as gone only once the
 * chain has grown `depth` blocks past where it was: until then the report is "nothing to say",
 * as for a node that lags. Reading the fork point as the deposit's own block errs towards waiting
 * longer, never shorter. The node is asked for all deposits at once, in a few batches.
 */
import { finalityOf, type Network } from '../domain/networks';
import type { ConfirmationReport } from '../workflows/definitions';
import { paysTheSame, paysTheSameRecipient, type ChainAdapter, type Inclusion, type RecordedTransfer } from './chain-adapter';

export interface PendingDeposit extends RecordedTransfer {
  blockNumber: number;
  blockHash: string | null;
  requiredConfirmations: number;
}

/** Where a chain stands: its head, and on a rollup its safe block too. */
export async function chainTip(adapter: ChainAdapter, network: Network): Promise<{ head: number; safeHead: number | undefined }> {
  const head = await adapter.head();
  const safeHead = finalityOf(network) === 'safe' && adapter.safeHead ? await adapter.safeHead() : undefined;
  return { head, safeHead };
}

/**
 * A block's confirmations at `head`. On a rollup (`safeHead` given) a block past the safe head
 * counts at most one short of final, however many blocks follow it: the sequencer alone vouches
 * for it until it is posted to L1.
 */
export function confirmationsOf(number: number, chain: { head: number; safeHead?: number | undefined }, requiredConfirmations: number): number {
  const confirmations = Math.max(0, chain.head - number + 1);
  return chain.safeHead !== undefined && number > chain.safeHead ? Math.min(confirmations, requiredConfirmations - 1) : confirmations;
}

export async function confirmationReports(
  adapter: ChainAdapter,
  chain: { head: number; safeHead?: number | undefined },
  depth: number,
  deposits: PendingDeposit[],
): Promise<Array<ConfirmationReport | undefined>> {
  const { head } = chain;
  const buried = (number: number) => head - number + 1 >= depth;
  const hashes = await canonicalHashes(
    adapter,
    deposits.filter((deposit) => deposit.blockNumber <= head).map((deposit) => deposit.blockNumber),
  );

  // Only a deposit whose block was replaced needs its transaction read again.
  const moved = deposits.filter((deposit) => {
    const canonical = hashes.get(deposit.blockNumber);
    return canonical !== null && canonical !== undefined && canonical !== deposit.blockHash;
  });
  const inclusions = new Map<PendingDeposit, Inclusion | null>();
  (await adapter.inclusions(moved)).forEach((inclusion, i) => inclusions.set(moved[i]!, inclusion));
  // A receipt may come from a backend on another fork: its block must be the canonical one too.
  const inclusionHashes = await canonicalHashes(
    adapter,
    [...inclusions.values()].flatMap((inclusion) => (inclusion && inclusion.blockNumber <= head ? [inclusion.blockNumber] : [])),
  );

  return deposits.map((deposit): ConfirmationReport | undefined => {
    const confirmationsAt = (number: number) => confirmationsOf(number, chain, deposit.requiredConfirmations);
    if (deposit.blockNumber > head) return undefined;
    const canonical = hashes.get(deposit.blockNumber);
    if (canonical === null || canonical === undefined) return undefined;
    if (canonical === deposit.blockHash)
      return { confirmations: confirmationsAt(deposit.blockNumber), blockHash: canonical, blockNumber: deposit.blockNumber, canonical: true };
    const inclusion = inclusions.get(deposit);
    if (!inclusion) return buried(deposit.blockNumber) ? { confirmations: 0, blockHash: deposit.blockHash, canonical: false } : undefined;
    if (inclusion.blockNumber > head || inclusionHashes.get(inclusion.blockNumber) !== inclusion.blockHash) return undefined;
    if (!paysTheSame(deposit, inclusion.pays))
      return buried(inclusion.blockNumber) ? { confirmations: 0, blockHash: deposit.blockHash, canonical: false } : undefined;
    return { confirmations: confirmationsAt(inclusion.blockNumber), blockHash: inclusion.blockHash, blockNumber: inclusion.blockNumber, canonical: true };
  });
}

/**
 * Which deposits a reorg failed or reversed are back on the canonical chain: their transaction in
 * a canonical block, its transfer's place paying the same recipient in the same asset (the amount
 * may differ: a re-inclusion that pays less is re-opened for what it pays). Each is given its new
 * block, its confirmations there and the amount paid.
 */
export async function reinclusions(
  adapter: ChainAdapter,
  chain: { head: number; safeHead?: number | undefined },
  deposits: Array<RecordedTransfer & { requiredConfirmations: number }>,
): Promise<Array<{ report: ConfirmationReport; blockNumber: number; blockHash: string; amount: string } | undefined>> {
  const { head } = chain;
  const inclusions = await adapter.inclusions(deposits);
  const hashes = await canonicalHashes(
    adapter,
    inclusions.flatMap((inclusion) => (inclusion && inclusion.blockNumber <= head ? [inclusion.blockNumber] : [])),
  );
  return deposits.map((deposit, i) => {
    const inclusion = inclusions[i];
    if (!inclusion || inclusion.blockNumber > head || hashes.get(inclusion.blockNumber) !== inclusion.blockHash) return undefined;
    if (!paysTheSameRecipient(deposit, inclusion.pays)) return undefined;
    const { blockNumber, blockHash } = inclusion;
    return {
      report: { confirmations: confirmationsOf(blockNumber, chain, deposit.requiredConfirmations), blockHash, blockNumber, canonical: true },
      blockNumber,
      blockHash,
      amount: inclusion.pays!.amount,
    };
  });
}

async function canonicalHashes(adapter: ChainAdapter, numbers: number[]): Promise<Map<number, string | null>> {
  const heights = [...new Set(numbers)];
  const hashes = new Map<number, string | null>();
  (await adapter.blockHashes(heights)).forEach((hash, i) => hashes.set(heights[i]!, hash));
  return hashes;
}

/**
 * What a report means to a listening deposit, judged by what it has recorded. `signal`: its
 * workflow acts on it: a reorg always; for a deposit not yet completed, another block, its first
 * confirmations (it becomes confirming) or its required depth (it completes). `note`: only the
 * count moved, between those: the watcher writes it in the row (noteConfirmations) and the workflow
 * is not told, so a deposit's history grows by a handful of reports, not by one per block. `none`:
 * nothing new; a completed deposit listens for reorgs only (reporting every round would add a
 * signal and a workflow task to each deposit in its reversal window, and keep restarting that window).
 */
export function reportEffect(
  deposit: { status: string; confirmations: number; requiredConfirmations: number; blockHash: string | null },
  report: ConfirmationReport,
): 'signal' | 'note' | 'none' {
  if (!report.canonical) return 'signal';
  if (deposit.status === 'completed') return 'none';
  if (report.blockHash !== deposit.blockHash) return 'signal';
  if (report.confirmations <= deposit.confirmations) return 'none';
  return deposit.status === 'detected' || report.confirmations >= deposit.requiredConfirmations ? 'signal' : 'note';
}
