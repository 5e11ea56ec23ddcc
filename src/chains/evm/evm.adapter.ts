/**
 * Reads an EVM chain for deposits: ERC-20 `Transfer` logs of the configured token contracts
 * (token-transfers.ts) and native-coin transfers, from blocks' transactions and, when the network
 * is configured to read call traces, from inside them (native-transfers.ts); every transfer found
 * is kept only as its receipt confirms it (receipts.ts).
 *
 * A provider behind a load balancer is several nodes that lag and disagree, so nothing one call
 * says is taken on trust: a round reads its blocks in full, and every log must belong to one of
 * those blocks (number and hash), every block whose bloom admits a watched token's Transfer but
 * yielded no log is asked again by its hash (EIP-234), and every transfer found is read again from
 * its receipt, which must sit in the same block. Any disagreement fails the round, which the
 * watcher retries; nothing is skipped. Ranges follow AIMD: they grow by a few blocks after a round
 * that succeeds and halve after one that fails, whatever the failure was.
 */
import { toQuantity, type JsonRpcProvider } from 'ethers';
import {
  compareWithinTransaction,
  MalformedNodeAnswerError,
  type ChainAdapter,
  type DetectedTransfer,
  type Inclusion,
  type RecordedTransfer,
  type ScannedRange,
  type TokenContract,
  type WatchedAddresses,
} from '../chain-adapter';
import { withEip55 } from './addresses';
import { InternalTransfers, nativeTransfersOf, type CallTracer } from './native-transfers';
import { confirmedByReceipts, inclusionsOf } from './receipts';
import { readBlocks } from './rpc';
import { TokenTransfers } from './token-transfers';

// Where importers have always found them.
export { callTracers, type CallTracer } from './native-transfers';
export { TRANSFER_TOPIC } from './token-transfers';

/** AIMD: where a range starts, what it gains after each successful full round, and its ceiling unless configured. */
const INITIAL_BLOCK_RANGE = 50;
const BLOCK_RANGE_STEP = 10;
const DEFAULT_MAX_BLOCK_RANGE = 500;

export class EvmAdapter implements ChainAdapter {
  private readonly tokens: TokenTransfers;
  private readonly internal: InternalTransfers;
  private readonly ceiling: number;
  private blockRange: number;

  constructor(
    private readonly provider: JsonRpcProvider,
    private readonly options: {
      nativeCurrency: string;
      tokens: TokenContract[];
      maxBlockRange?: number;
      callTracer?: CallTracer | undefined;
      /** Told of a block scanned without its internal transfers because the node no longer keeps its state (see InternalTransfers.inBlocks). */
      onUntraceableBlock?: (blockNumber: number, reason: string) => void;
    },
  ) {
    this.tokens = new TokenTransfers(provider, options.tokens);
    this.internal = new InternalTransfers(provider, options);
    this.ceiling = options.maxBlockRange ?? DEFAULT_MAX_BLOCK_RANGE;
    this.blockRange = Math.min(this.ceiling, INITIAL_BLOCK_RANGE);
  }

  get maxBlockRange(): number {
    return this.blockRange;
  }

  async head(): Promise<number> {
    // Straight from the node: ethers' getBlockNumber() may answer from a short-lived cache.
    return Number(await this.provider.send('eth_blockNumber', []));
  }

  async safeHead(): Promise<number> {
    const block = (await this.provider.send('eth_getBlockByNumber', ['safe', false])) as { number?: string } | null;
    if (typeof block?.number !== 'string') throw new MalformedNodeAnswerError(`the node has no safe block: ${JSON.stringify(block)?.slice(0, 200)}`);
    return Number(block.number);
  }

  async transfersTo(fromBlock: number, toBlock: number, watched: WatchedAddresses): Promise<ScannedRange> {
    if (toBlock < fromBlock) throw new RangeError(`an empty range: ${fromBlock}..${toBlock}`);
    const size = toBlock - fromBlock + 1;
    if (size > this.maxBlockRange) throw new RangeError(`at most ${this.maxBlockRange} blocks per call, asked for ${size}`);
    const asked = this.blockRange;
    try {
      const scanned = await this.scan(fromBlock, toBlock, watched);
      // A full round that went through grows the next (one the node made split shrank it instead).
      if (size >= asked && this.blockRange === asked) this.blockRange = Math.min(this.ceiling, asked + BLOCK_RANGE_STEP);
      return scanned;
    } catch (error) {
      // Whatever failed (a timeout, a capped answer, a lagging backend), the next try asks for less.
      this.blockRange = Math.max(1, Math.floor(this.blockRange / 2));
      throw error;
    }
  }

  limitations(): string[] {
    if (this.options.callTracer) return [];
    return [
      `native ${this.options.nativeCurrency} that contracts send (internal transfers: smart-contract wallets, exchanges' batch withdrawals) is not seen: ` +
        'call tracing is off (INFLOW_TRACE_<NETWORK>_<MODE>=callTracer or parity, for a node that serves those traces)',
    ];
  }

  private async scan(fromBlock: number, toBlock: number, watched: WatchedAddresses): Promise<ScannedRange> {
    const [blocks, logs] = await Promise.all([
      readBlocks(this.provider, fromBlock, toBlock),
      // Remembered for the next rounds: the node will refuse as much again.
      this.tokens.logs(fromBlock, toBlock, (half) => {
        this.blockRange = Math.min(this.blockRange, half);
      }),
    ]);
    const [internalCandidates] = await Promise.all([this.internal.inBlocks(blocks), this.tokens.checkAgainstBlocks(blocks, logs)]);

    const tokenCandidates = logs.flatMap((log) => this.tokens.decode(log) ?? []);
    const nativeCandidates = [...blocks.flatMap((block) => nativeTransfersOf(block, this.options.nativeCurrency)), ...internalCandidates];
    // In lower case, as nodes write them (addresses.ts); the watcher matches them so.
    const recipients = await watched([...new Set([...tokenCandidates, ...nativeCandidates].map((candidate) => candidate.transfer.to))]);
    const hits = [...nativeCandidates, ...tokenCandidates]
      .filter((candidate) => recipients.has(candidate.transfer.to))
      .map(({ transfer, log }) => ({ transfer: withEip55(transfer), log }));
    const transfers = await confirmedByReceipts(this.provider, hits, blocks);

    // In chain order: by block, by the transaction's place in it, by the transfer's place in the transaction.
    const place = new Map(blocks.flatMap((block) => block.transactions.map((tx, i) => [tx.hash, i] as const)));
    const order = (transfer: DetectedTransfer) => place.get(transfer.transactionHash) ?? 0;
    return {
      transfers: transfers.sort((a, b) => a.blockNumber - b.blockNumber || order(a) - order(b) || compareWithinTransaction(a.logIndex, b.logIndex)),
      toBlockHash: blocks.at(-1)!.hash,
      blockTimes: new Map(blocks.map((block) => [Number(block.number), Number(block.timestamp) * 1000])),
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

  inclusions(transfers: RecordedTransfer[]): Promise<Array<Inclusion | null>> {
    return inclusionsOf(this.provider, transfers, { nativeCurrency: this.options.nativeCurrency, tokens: this.tokens, internal: this.internal });
  }
}
