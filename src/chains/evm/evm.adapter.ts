/**
 * Reads an EVM chain for deposits: ERC-20 `Transfer` logs of the configured token contracts and
 * native-coin transfers from blocks' transactions (the succeeded ones, by their receipts), over
 * block ranges clamped to what the node accepts: a node that caps `eth_getLogs` answers makes the
 * range shrink until it answers. Pure reading: deposits are signalled elsewhere.
 */
import { getAddress, id, toQuantity, type JsonRpcProvider } from 'ethers';
import {
  MalformedNodeAnswerError,
  NATIVE_LOG_INDEX,
  type ChainAdapter,
  type DetectedTransfer,
  type TokenContract,
  type WatchedAddresses,
  type ScannedRange,
} from '../chain-adapter';

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

/** How providers say an `eth_getLogs` range holds too much (Infura, Alchemy, QuickNode, geth, erigon phrasings). */
const RANGE_TOO_LARGE =
  /more than \d+ results|too many (results|logs)|response size|(block )?range (is )?too (large|wide)|exceeds? (the )?max(imum)? (block )?range|limited to a? ?[\d,]+ (block )?range/i;

export class EvmAdapter implements ChainAdapter {
  private readonly tokensByAddress: Map<string, string>;
  private blockRange: number;

  constructor(
    private readonly provider: JsonRpcProvider,
    private readonly options: { nativeCurrency: string; tokens: TokenContract[]; maxBlockRange?: number },
  ) {
    this.tokensByAddress = new Map(options.tokens.map((token) => [getAddress(token.address), token.currency]));
    this.blockRange = options.maxBlockRange ?? 2_000;
  }

  get maxBlockRange(): number {
    return this.blockRange;
  }

  async head(): Promise<number> {
    // Straight from the node: ethers' getBlockNumber() may answer from a short-lived cache.
    return Number(await this.provider.send('eth_blockNumber', []));
  }

  async transfersTo(fromBlock: number, toBlock: number, watched: WatchedAddresses): Promise<ScannedRange> {
    if (toBlock < fromBlock) throw new RangeError(`an empty range: ${fromBlock}..${toBlock}`);
    if (toBlock - fromBlock + 1 > this.maxBlockRange) {
      throw new RangeError(`at most ${this.maxBlockRange} blocks per call, asked for ${toBlock - fromBlock + 1}`);
    }
    const [tokenTransfers, native] = await Promise.all([this.tokenTransfers(fromBlock, toBlock), this.nativeTransfers(fromBlock, toBlock)]);
    const recipients = await watched([...new Set([...tokenTransfers, ...native.transfers].map((transfer) => transfer.to))]);
    // Token logs exist only for transactions that succeeded; a native transfer needs its receipt.
    const succeeded = await this.succeeded(native.transfers.filter((transfer) => recipients.has(transfer.to)));
    return {
      transfers: [...succeeded, ...tokenTransfers.filter((transfer) => recipients.has(transfer.to))].sort(
        (a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex,
      ),
      toBlockHash: native.toBlockHash,
    };
  }

  // Canonical-chain checks ask the node directly, so nothing a client library remembers can hide a
  // reorg; requests made together go out as one JSON-RPC batch.

  async blockTimestamp(number: number): Promise<number> {
    const block = (await this.provider.send('eth_getBlockByNumber', [toQuantity(number), false])) as { timestamp?: string } | null;
    if (!block?.timestamp) throw new MalformedNodeAnswerError(`block ${number} has no timestamp (is it past the head?)`);
    return Number(block.timestamp) * 1000;
  }

  async blockHashes(numbers: number[]): Promise<Array<string | null>> {
    const blocks = (await Promise.all(numbers.map((number) => this.provider.send('eth_getBlockByNumber', [toQuantity(number), false])))) as Array<{
      hash: string;
    } | null>;
    return blocks.map((block) => block?.hash ?? null);
  }

  async transactionBlocks(transactionHashes: string[]): Promise<Array<{ blockNumber: number; blockHash: string } | null>> {
    const receipts = await this.receipts(transactionHashes);
    return receipts.map((receipt) => (receipt ? { blockNumber: Number(receipt.blockNumber), blockHash: receipt.blockHash } : null));
  }

  // The scans read raw JSON-RPC results: building library objects for thousands of logs and
  // transactions per range costs more than the request itself.

  /** The configured tokens' Transfer logs; a range the node refuses as too large is split in two. */
  private async tokenTransfers(fromBlock: number, toBlock: number): Promise<DetectedTransfer[]> {
    if (this.tokensByAddress.size === 0) return [];
    let logs: RawLog[];
    try {
      logs = (await this.provider.send('eth_getLogs', [
        { fromBlock: toQuantity(fromBlock), toBlock: toQuantity(toBlock), address: [...this.tokensByAddress.keys()], topics: [TRANSFER_TOPIC] },
      ])) as RawLog[];
    } catch (error) {
      if (toBlock === fromBlock || !RANGE_TOO_LARGE.test(nodeMessage(error))) throw error;
      // Remembered for the next rounds: the node will refuse as much again.
      const half = Math.ceil((toBlock - fromBlock + 1) / 2);
      this.blockRange = Math.min(this.blockRange, half);
      return [...(await this.tokenTransfers(fromBlock, fromBlock + half - 1)), ...(await this.tokenTransfers(fromBlock + half, toBlock))];
    }
    if (!Array.isArray(logs)) throw new MalformedNodeAnswerError(`eth_getLogs answered ${JSON.stringify(logs)?.slice(0, 200)}, not a list of logs`);
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

  /** Native-coin transfers of blocks fromBlock..toBlock, and the hash of the last of them as read. */
  private async nativeTransfers(fromBlock: number, toBlock: number): Promise<{ transfers: DetectedTransfer[]; toBlockHash: string }> {
    const numbers = Array.from({ length: toBlock - fromBlock + 1 }, (_, i) => fromBlock + i);
    const blocks = (await Promise.all(
      numbers.map((number) => this.provider.send('eth_getBlockByNumber', [toQuantity(number), true])),
    )) as Array<RawBlock | null>;
    // A block the node does not have yet fails the round (retried), rather than being skipped.
    const missing = blocks.findIndex((block) => block === null);
    if (missing !== -1) throw new Error(`the node has no block ${numbers[missing]} yet`);
    const transfers = (blocks as RawBlock[]).flatMap((block) => {
      if (!Array.isArray(block.transactions) || typeof block.hash !== 'string')
        throw new MalformedNodeAnswerError(`block ${block.number} came without its transactions or hash`);
      return block.transactions
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
        }));
    });
    return { transfers, toBlockHash: (blocks as RawBlock[]).at(-1)!.hash };
  }

  /** The transfers whose transaction succeeded: a reverted call to a contract moved no coin. */
  private async succeeded(transfers: DetectedTransfer[]): Promise<DetectedTransfer[]> {
    const receipts = await this.receipts(transfers.map((transfer) => transfer.transactionHash));
    return transfers.filter((transfer, i) => {
      const receipt = receipts[i];
      if (!receipt) throw new Error(`the node has no receipt for ${transfer.transactionHash} yet`);
      if (receipt.status !== '0x1' && receipt.status !== '0x0') throw new MalformedNodeAnswerError(`the receipt of ${transfer.transactionHash} has no status`);
      return receipt.status === '0x1';
    });
  }

  private async receipts(transactionHashes: string[]): Promise<Array<{ blockNumber: string; blockHash: string; status: string } | null>> {
    return (await Promise.all(transactionHashes.map((hash) => this.provider.send('eth_getTransactionReceipt', [hash])))) as Array<{
      blockNumber: string;
      blockHash: string;
      status: string;
    } | null>;
  }
}

/** The message a JSON-RPC error carries, however the client library wrapped it. */
function nodeMessage(error: unknown): string {
  const wrapped = error as { error?: { message?: unknown }; info?: { error?: { message?: unknown } }; message?: unknown };
  return [wrapped.error?.message, wrapped.info?.error?.message, wrapped.message].filter((part) => typeof part === 'string').join(' ');
}
