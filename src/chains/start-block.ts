import type { Db } from '../db/database';
import { firstAddressCreatedAt } from './chains.repository';
import type { ChainAdapter, WatchedChainAdapter } from './chain-adapter';

/**
 * Where a watcher that has never run starts: the operator's INFLOW_CHAIN_START_BLOCK_<NETWORK>_<MODE>,
 * else the block made an hour before the mode's first deposit address was (money cannot have been
 * sent to an address before anyone was given it; the hour covers clock skew between Postgres and
 * the chain, and block timestamps in whole seconds), else, with no address yet, past the head.
 * Never the head itself when addresses exist: what was paid while no watcher ran is found.
 */
export async function firstBlockToScan(db: Db, chain: WatchedChainAdapter, livemode: boolean, head: number): Promise<number> {
  if (chain.startBlock !== undefined) return chain.startBlock;
  const since = await firstAddressCreatedAt(db, livemode);
  return since === null ? head + 1 : blockAtTime(chain.adapter, since.getTime() - START_BLOCK_MARGIN_MS, head);
}

const START_BLOCK_MARGIN_MS = 60 * 60 * 1000;

/** The last block made at or before `timeMs` (block 0 if none was), by binary search over timestamps. */
export async function blockAtTime(adapter: ChainAdapter, timeMs: number, head: number): Promise<number> {
  let low = 0;
  let high = head;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if ((await adapter.blockTimestamp(middle)) <= timeMs) low = middle;
    else high = middle - 1;
  }
  return low;
}
