/**
 * Reads an EVM chain for deposits: ERC-20 `Transfer` logs of the configured token contracts and
 * native-coin transfers from blocks' transactions, over block ranges clamped to the provider's
 * limit. Pure reading: matching recipients to customers and signalling deposits happen elsewhere.
 */
import { getAddress, id, toQuantity, type JsonRpcProvider } from 'ethers';

/** The JSON-RPC shapes the scan reads (quantities are hex strings). */
interface RawLog {
  address: string;
  topics: string[];
  data: string;
  blockNumber: string;
  blockHash: string;
  transactionHash: string;
  logIndex: string;
  removed?: boolean;
}

interface RawBlock {
  number: string;
  hash: string;
  transactions: Array<{ hash: string; from: string; to: string | null; value: string }>;
}

export const TRANSFER_TOPIC = id('Transfer(address,address,uint256)');
/** Native transfers have no log: this log index keeps them apart from any token transfer. */
export const NATIVE_LOG_INDEX = -1;

export interface DetectedTransfer {
  transactionHash: string;
  /**
   * The transfer's position among the configured tokens' Transfer logs of its own transaction
   * (0, 1, …), or NATIVE_LOG_INDEX. Not the block-wide log index: a transaction that a reorg moves
   * to another block keeps this number, so it stays the same deposit.
   */
  logIndex: number;
  blockNumber: number;
  blockHash: string;
  from: string;
  /** EIP-55 checksummed, as customer addresses are stored. */
  to: string;
  /** Base units, as a decimal string. */
  amount: string;
  currency: string;
}

export interface TokenContract {
  currency: string;
  address: string;
}

export class EvmAdapter {
  private readonly tokensByAddress: Map<string, string>;

  constructor(
    private readonly provider: JsonRpcProvider,
    private readonly options: { nativeCurrency: string; tokens: TokenContract[]; maxBlockRange?: number },
  ) {
    this.tokensByAddress = new Map(options.tokens.map((token) => [getAddress(token.address), token.currency]));
  }

  get maxBlockRange(): number {
    return this.options.maxBlockRange ?? 2_000;
  }

  async head(): Promise<number> {
    // Straight from the node: ethers' getBlockNumber() may answer from a short-lived cache.
    return Number(await this.provider.send('eth_blockNumber', []));
  }

  /** Every non-zero transfer in blocks `fromBlock`..`toBlock` (inclusive, at most maxBlockRange of them). */
  async transfersIn(fromBlock: number, toBlock: number): Promise<DetectedTransfer[]> {
    if (toBlock < fromBlock) return [];
    if (toBlock - fromBlock + 1 > this.maxBlockRange) {
      throw new RangeError(`at most ${this.maxBlockRange} blocks per call, asked for ${toBlock - fromBlock + 1}`);
    }
    const [tokenTransfers, nativeTransfers] = await Promise.all([this.tokenTransfers(fromBlock, toBlock), this.nativeTransfers(fromBlock, toBlock)]);
    return [...nativeTransfers, ...tokenTransfers].sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex);
  }

  // Canonical-chain checks ask the node directly, so nothing a client library remembers can hide a reorg.

  /** The hash of block `number` on the canonical chain now, or null past the head. */
  async blockHash(number: number): Promise<string | null> {
    const block = (await this.provider.send('eth_getBlockByNumber', [toQuantity(number), false])) as { hash: string } | null;
    return block?.hash ?? null;
  }

  /** Where a transaction is mined now (it may have moved in a reorg), or null if it is not. */
  async transactionBlock(transactionHash: string): Promise<{ blockNumber: number; blockHash: string } | null> {
    const receipt = (await this.provider.send('eth_getTransactionReceipt', [transactionHash])) as { blockNumber: string; blockHash: string } | null;
    return receipt ? { blockNumber: Number(receipt.blockNumber), blockHash: receipt.blockHash } : null;
  }

  // The scans read raw JSON-RPC results: building library objects for thousands of logs and
  // transactions per range costs more than the request itself.

  private async tokenTransfers(fromBlock: number, toBlock: number): Promise<DetectedTransfer[]> {
    if (this.tokensByAddress.size === 0) return [];
    const logs = (await this.provider.send('eth_getLogs', [
      { fromBlock: toQuantity(fromBlock), toBlock: toQuantity(toBlock), address: [...this.tokensByAddress.keys()], topics: [TRANSFER_TOPIC] },
    ])) as RawLog[];
    const ordinals = new Map<string, number>();
    return logs
      .sort((a, b) => Number(a.blockNumber) - Number(b.blockNumber) || Number(a.logIndex) - Number(b.logIndex))
      .flatMap((log) => {
        const ordinal = ordinals.get(log.transactionHash) ?? 0;
        ordinals.set(log.transactionHash, ordinal + 1);
        return this.decodeTransfer(log, ordinal) ?? [];
      });
  }

  private decodeTransfer(log: RawLog, ordinal: number): DetectedTransfer | undefined {
    const currency = this.tokensByAddress.get(getAddress(log.address));
    // A Transfer has two indexed addresses and the amount as data; anything else is not one.
    if (!currency || log.topics.length !== 3 || log.data.length !== 66 || log.removed) return undefined;
    const amount = BigInt(log.data);
    if (amount === 0n) return undefined;
    return {
      transactionHash: log.transactionHash,
      logIndex: ordinal,
      blockNumber: Number(log.blockNumber),
      blockHash: log.blockHash,
      from: getAddress(`0x${log.topics[1]!.slice(26)}`),
      to: getAddress(`0x${log.topics[2]!.slice(26)}`),
      amount: amount.toString(),
      currency,
    };
  }

  private async nativeTransfers(fromBlock: number, toBlock: number): Promise<DetectedTransfer[]> {
    const numbers = Array.from({ length: toBlock - fromBlock + 1 }, (_, i) => fromBlock + i);
    // Requests made together go out as one JSON-RPC batch.
    const blocks = (await Promise.all(
      numbers.map((number) => this.provider.send('eth_getBlockByNumber', [toQuantity(number), true])),
    )) as Array<RawBlock | null>;
    // A block the node does not have yet fails the round (retried), rather than being skipped.
    const missing = blocks.findIndex((block) => block === null);
    if (missing !== -1) throw new Error(`the node has no block ${numbers[missing]} yet`);
    return (blocks as RawBlock[]).flatMap((block) =>
      block.transactions
        .filter((tx) => tx.to !== null && BigInt(tx.value) > 0n)
        .map((tx) => ({
          transactionHash: tx.hash,
          logIndex: NATIVE_LOG_INDEX,
          blockNumber: Number(block.number),
          blockHash: block.hash,
          from: getAddress(tx.from),
          to: getAddress(tx.to!),
          amount: BigInt(tx.value).toString(),
          currency: this.options.nativeCurrency,
        })),
    );
  }
}
