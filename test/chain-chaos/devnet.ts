/**
 * The runner's own line to anvil, never through the fault proxy: mining, reorgs, sending signed
 * transactions, and the reads the oracle trusts. Plain JSON-RPC over fetch with a deadline, so a
 * call never hangs the run.
 *
 * What anvil 1.7.1 offers, checked by experiment (anvil --no-mining):
 *  - `anvil_reorg(depth, [[rawTx, blockOffset], …])` replaces the last `depth` blocks by as many new
 *    ones (other hashes, same height), holding only the transactions given; every other
 *    transaction of the replaced blocks is gone, from the chain and from the pool;
 *  - `anvil_rollback(depth)` removes the last `depth` blocks (the head goes down), their
 *    transactions gone too; `evm_snapshot`/`evm_revert` do the same to a snapshot;
 *  - a dropped transaction sent again with the same signed bytes is mined with the same hash;
 *  - `anvil_dropTransaction` only removes a transaction still in the pool.
 * The suite reorganises with `anvil_reorg(depth, [])`: the node never shows a shorter chain, as a
 * real fork choice would not.
 */
import { Wallet } from 'ethers';

/** A block with its transactions' hashes, or (`RpcBlock<RpcTransaction>`) the transactions themselves. */
export interface RpcBlock<Transaction = string> {
  number: string;
  hash: string;
  parentHash: string;
  transactions: Transaction[];
}

export interface RpcTransaction {
  hash: string;
  from: string;
  to: string | null;
  value: string;
  input: string;
  blockNumber: string | null;
}

export interface RpcLog {
  address: string;
  topics: string[];
  data: string;
  blockNumber: string;
  blockHash: string;
  transactionHash: string;
  transactionIndex: string;
  logIndex: string;
  removed?: boolean;
}

export interface RpcReceipt {
  transactionHash: string;
  blockNumber: string;
  blockHash: string;
  status: string;
  logs: RpcLog[];
}

const CALL_TIMEOUT_MS = 30_000;
const GAS_PRICE = 10_000_000_000n;
export const CHAIN_ID = 31337n;

export class Devnet {
  private nextId = 1;

  constructor(readonly url: string) {}

  async rpc<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: this.nextId++, method, params }),
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    });
    const answer = (await response.json()) as { result?: T; error?: { message: string } };
    if (answer.error) throw new Error(`${method}: ${answer.error.message}`);
    return answer.result as T;
  }

  async head(): Promise<number> {
    return Number(await this.rpc<string>('eth_blockNumber'));
  }

  /** Mines one block of whatever the pool holds; returns its number. */
  async mine(): Promise<number> {
    await this.rpc('evm_mine');
    return this.head();
  }

  /** Replaces the last `depth` blocks by as many empty ones: their transactions leave the chain. */
  async reorg(depth: number): Promise<void> {
    await this.rpc('anvil_reorg', [depth, []]);
  }

  async block(number: number): Promise<RpcBlock> {
    return this.rpc('eth_getBlockByNumber', [`0x${number.toString(16)}`, false]);
  }

  async blockWithTransactions(number: number): Promise<RpcBlock<RpcTransaction>> {
    return this.rpc('eth_getBlockByNumber', [`0x${number.toString(16)}`, true]);
  }

  async receipt(hash: string): Promise<RpcReceipt | null> {
    return this.rpc('eth_getTransactionReceipt', [hash]);
  }

  async sendRaw(raw: string): Promise<string> {
    return this.rpc<string>('eth_sendRawTransaction', [raw]);
  }

  async nonce(address: string): Promise<number> {
    return Number(await this.rpc<string>('eth_getTransactionCount', [address, 'pending']));
  }

  async call(to: string, data: string): Promise<string> {
    return this.rpc<string>('eth_call', [{ to, data }, 'latest']);
  }

  /** Signs a legacy-priced transaction (fixed gas limit: a call that will revert is still mined, and fails). */
  async sign(wallet: Wallet, tx: { to: string; data?: string; value?: bigint; nonce: number; gasLimit: bigint }): Promise<string> {
    return wallet.signTransaction({ ...tx, gasPrice: GAS_PRICE, chainId: CHAIN_ID });
  }

  /** Sends and mines one block; throws unless the transaction is in it and succeeded. */
  async sendAndMine(raw: string, what: string): Promise<RpcReceipt> {
    const hash = await this.sendRaw(raw);
    await this.mine();
    const receipt = await this.receipt(hash);
    if (!receipt) throw new Error(`${what}: not mined`);
    if (receipt.status !== '0x1') throw new Error(`${what}: reverted`);
    return receipt;
  }
}

/** Gas for every transaction the suite sends: the price is fixed, so this is what a payer needs per transaction. */
export const GAS_COST_PER_TX = 300_000n * GAS_PRICE;
