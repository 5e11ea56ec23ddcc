/**
 * What sweeping needs of an EVM chain's nodes: balances, the pending nonce, gas and fee estimates,
 * sending signed bytes and reading receipts. Reads go to a node at the head (node-pool.ts), a
 * broadcast to every node. Sending is idempotent: the same signed bytes sent again (a retry after
 * a crash) are answered "already known" or "nonce too low" by a node that has them, and both are
 * success when the transaction is the one the node knows.
 */
import { FetchRequest, Interface, JsonRpcProvider, Transaction } from 'ethers';
import { NodePool } from './node-pool';

const erc20 = new Interface(['function balanceOf(address) view returns (uint256)', 'function transfer(address to, uint256 amount) returns (bool)']);

export interface FeeQuote {
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
}

export interface Receipt {
  blockNumber: bigint;
  status: 'succeeded' | 'reverted';
  gasUsed: bigint;
  /** What the sender paid for gas, in wei. */
  fee: bigint;
}

export class EvmTreasuryChain {
  private readonly providers: JsonRpcProvider[];
  private readonly pool: NodePool<JsonRpcProvider>;
  private chainIdCache: bigint | undefined;

  /** `rpcUrls` in order of preference; `headers` go with every request (a provider's API key, say). */
  constructor(rpcUrls: string | string[], headers: Record<string, string> = {}, options?: { maxLagBlocks: number; refreshMs: number }) {
    this.providers = (typeof rpcUrls === 'string' ? [rpcUrls] : rpcUrls).map((url) => {
      const request = new FetchRequest(url);
      for (const [name, value] of Object.entries(headers)) request.setHeader(name, value);
      return new JsonRpcProvider(request, undefined, { staticNetwork: true, batchMaxCount: 1 });
    });
    this.pool = new NodePool(this.providers, async (provider) => BigInt(await provider.send('eth_blockNumber', [])), options);
  }

  /** One JSON-RPC call, to a node at the head. */
  private rpc<T>(method: string, params: unknown[]): Promise<T> {
    return this.pool.read((provider) => provider.send(method, params) as Promise<T>);
  }

  async chainId(): Promise<bigint> {
    this.chainIdCache ??= BigInt(await this.rpc<string>('eth_chainId', []));
    return this.chainIdCache;
  }

  async nativeBalance(address: string): Promise<bigint> {
    return BigInt(await this.rpc<string>('eth_getBalance', [address, 'latest']));
  }

  async tokenBalance(token: string, address: string): Promise<bigint> {
    const answer = await this.rpc<string>('eth_call', [{ to: token, data: erc20.encodeFunctionData('balanceOf', [address]) }, 'latest']);
    return BigInt(answer);
  }

  /** The next nonce the node would give the address, counting its pending transactions. */
  async pendingNonce(address: string): Promise<bigint> {
    return BigInt(await this.rpc<string>('eth_getTransactionCount', [address, 'pending']));
  }

  async headNumber(): Promise<bigint> {
    return BigInt(await this.rpc<string>('eth_blockNumber', []));
  }

  /**
   * Fees for a transaction that should be mined within a few blocks: twice the latest base fee
   * (room for six full blocks of rises) plus the node's suggested tip.
   */
  async feeQuote(): Promise<FeeQuote> {
    const [block, tip] = await Promise.all([
      this.rpc<{ baseFeePerGas?: string }>('eth_getBlockByNumber', ['latest', false]),
      this.rpc<string>('eth_maxPriorityFeePerGas', []).catch(() => '0x3b9aca00'),
    ]);
    const baseFee = BigInt(block.baseFeePerGas ?? '0x0');
    const maxPriorityFeePerGas = BigInt(tip);
    return { maxFeePerGas: baseFee * 2n + maxPriorityFeePerGas, maxPriorityFeePerGas };
  }

  async estimateGas(call: { from: string; to: string; value: bigint; data: string }): Promise<bigint> {
    return BigInt(await this.rpc<string>('eth_estimateGas', [{ from: call.from, to: call.to, value: `0x${call.value.toString(16)}`, data: call.data }]));
  }

  /** Sends signed bytes to every node; the same bytes sent again are not an error. */
  async send(signedTransaction: string): Promise<string> {
    const hash = Transaction.from(signedTransaction).hash!;
    await this.pool.all(async (provider) => {
      try {
        await provider.send('eth_sendRawTransaction', [signedTransaction]);
      } catch (error) {
        const message = String((error as { error?: { message?: string } }).error?.message ?? (error as Error).message).toLowerCase();
        const known = /already known|known transaction|already imported|nonce too low|already exists/.test(message);
        // "nonce too low" is success only if this very transaction took the nonce (as this node sees it).
        const mine = async () =>
          (await provider.send('eth_getTransactionReceipt', [hash])) !== null || (await provider.send('eth_getTransactionByHash', [hash])) !== null;
        if (!known || (message.includes('nonce too low') && !(await mine()))) throw error;
      }
    });
    return hash;
  }

  async isPending(hash: string): Promise<boolean> {
    return (await this.rpc<unknown>('eth_getTransactionByHash', [hash])) !== null;
  }

  async receipt(hash: string): Promise<Receipt | undefined> {
    const raw = (await this.rpc<unknown>('eth_getTransactionReceipt', [hash])) as {
      blockNumber: string;
      status: string;
      gasUsed: string;
      effectiveGasPrice: string;
    } | null;
    if (!raw) return undefined;
    const gasUsed = BigInt(raw.gasUsed);
    return {
      blockNumber: BigInt(raw.blockNumber),
      status: raw.status === '0x1' ? 'succeeded' : 'reverted',
      gasUsed,
      fee: gasUsed * BigInt(raw.effectiveGasPrice),
    };
  }

  destroy(): void {
    for (const provider of this.providers) provider.destroy();
  }
}

/** `transfer(to, amount)` of an ERC-20 token: what a token sweep calls. */
export function tokenTransferData(to: string, amount: bigint): string {
  return erc20.encodeFunctionData('transfer', [to, amount]);
}
