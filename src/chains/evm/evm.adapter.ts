/**
 * Reads an EVM chain for deposits: ERC-20 `Transfer` logs of the configured token contracts and
 * native-coin transfers from blocks' transactions (the succeeded ones, by their receipts).
 *
 * A provider behind a load balancer is several nodes that lag and disagree, so nothing one call
 * says is taken on trust: a round reads its blocks in full, and every log must belong to one of
 * those blocks (number and hash), every block whose bloom admits a watched token's Transfer but
 * yielded no log is asked again by its hash (EIP-234), and every transfer found is read again from
 * its receipt, which must sit in the same block. Any disagreement fails the round, which the
 * watcher retries; nothing is skipped. Ranges follow AIMD: they grow by a few blocks after a round
 * that succeeds and halve after one that fails, whatever the failure was.
 *
 * Native coin that a contract sends while a transaction runs (an internal transfer: a Safe or
 * ERC-4337 wallet paying out, an exchange's batch withdrawal, any `call{value:}`) shows in no
 * transaction's `to` and `value` and in no log, only in the call tree, so it is found in call
 * traces when the network is configured to read them (CallTracer below): each block with
 * transactions is traced, the traces must be that very block's, and each transfer is numbered by
 * its frame's place in its transaction's call tree (internalTransferIndex in chain-adapter.ts).
 */
import { getAddress, getBytes, id, keccak256, toQuantity, type JsonRpcProvider } from 'ethers';
import {
  compareWithinTransaction,
  internalTransferIndex,
  internalTransferOrdinal,
  MalformedNodeAnswerError,
  NATIVE_LOG_INDEX,
  type ChainAdapter,
  type DetectedTransfer,
  paysTheSame,
  type Inclusion,
  type RecordedTransfer,
  type ScannedRange,
  type TokenContract,
  type WatchedAddresses,
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
  parentHash: string;
  /** Seconds since the epoch, as a hex quantity. */
  timestamp: string;
  logsBloom?: string;
  transactions: Array<{ hash: string; from: string; to: string | null; value: string }>;
}

interface RawReceipt {
  transactionHash: string;
  blockNumber: string;
  blockHash: string;
  status: string;
  logs: RawLog[];
}

/** A frame of geth's callTracer (debug_trace*): the transaction's own at the top, the calls it made nested in the order they ran. */
interface CallTracerFrame {
  type: string;
  from: string;
  to?: string;
  value?: string;
  error?: string;
  calls?: CallTracerFrame[];
}

/** A frame of a parity-style trace (trace_*): a flat list, each placed in its transaction's call tree by traceAddress. */
interface ParityTrace {
  type: string;
  action: { callType?: string; from?: string; to?: string; value?: string; address?: string; balance?: string; refundAddress?: string };
  error?: string;
  traceAddress: number[];
  transactionHash?: string | null;
  blockHash?: string;
}

/** Native coin a call frame below a transaction's own moved, and that stayed moved. */
interface InternalPayment {
  from: string;
  to: string;
  amount: bigint;
}

/**
 * How the node is asked for call traces, per network (INFLOW_TRACE_<NETWORK>_<MODE>; unset: not
 * at all, and limitations() says so). `callTracer` is geth's built-in tracer
 * (debug_traceBlockByHash, debug_traceTransaction: geth, erigon, reth, nethermind, anvil);
 * `parity` the trace module (trace_block, trace_transaction: erigon, reth, nethermind, anvil).
 * Both number a transaction's internal transfers alike. It is configured, not probed at first use:
 * tracing a block costs a node many times what reading it does (hosted providers bill debug and
 * trace calls at a multiple, some only on paid plans), and a node without archive state cannot
 * trace blocks older than the state it keeps (geth: the last 128), which a catch-up or a rescan
 * reads. Whether a node serves traces for every range the watcher will read is the operator's
 * knowledge; a probe at start would learn only about today's head. A configured tracer that fails
 * fails the round, which is retried: no block is scanned without its traces.
 */
export const callTracers = ['callTracer', 'parity'] as const;
export type CallTracer = (typeof callTracers)[number];

export const TRANSFER_TOPIC = id('Transfer(address,address,uint256)');

/** How providers say an `eth_getLogs` range holds too much (Infura, Alchemy, QuickNode, geth, erigon phrasings). */
const RANGE_TOO_LARGE =
  /more than \d+ results|too many (results|logs)|response size|(block )?range (is )?too (large|wide)|exceeds? (the )?max(imum)? (block )?range|limited to a? ?[\d,]+ (block )?range/i;

/** How nodes say they no longer keep the state a trace needs (geth, erigon, reth, nethermind, anvil phrasings). */
const STATE_GONE = /missing trie node|historical state|state (is )?not available|required state|pruned|resource not found/i;

/** AIMD: where a range starts, what it gains after each successful full round, and its ceiling unless configured. */
const INITIAL_BLOCK_RANGE = 50;
const BLOCK_RANGE_STEP = 10;
const DEFAULT_MAX_BLOCK_RANGE = 500;

export class EvmAdapter implements ChainAdapter {
  private readonly tokensByAddress: Map<string, string>;
  private readonly ceiling: number;
  private blockRange: number;

  constructor(
    private readonly provider: JsonRpcProvider,
    private readonly options: {
      nativeCurrency: string;
      tokens: TokenContract[];
      maxBlockRange?: number;
      callTracer?: CallTracer | undefined;
      /** Told of a block scanned without its internal transfers because the node no longer keeps its state (see internalTransfers). */
      onUntraceableBlock?: (blockNumber: number, reason: string) => void;
    },
  ) {
    this.tokensByAddress = new Map(options.tokens.map((token) => [getAddress(token.address), token.currency]));
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
    const [blocks, logs] = await Promise.all([this.blocks(fromBlock, toBlock), this.tokenLogs(fromBlock, toBlock)]);
    const [internalCandidates] = await Promise.all([this.internalTransfers(blocks), this.checkLogsAgainstBlocks(blocks, logs)]);

    const tokenCandidates = logs.flatMap((log) => this.decodeTransfer(log) ?? []);
    const nativeCandidates = [...blocks.flatMap((block) => nativeTransfersOf(block, this.options.nativeCurrency)), ...internalCandidates];
    const recipients = await watched([...new Set([...tokenCandidates, ...nativeCandidates].map((candidate) => candidate.transfer.to))]);
    const hits = [...nativeCandidates, ...tokenCandidates].filter((candidate) => recipients.has(candidate.transfer.to));

    // Each transfer is read again from its receipt: its status, its log's place in the
    // transaction (the transfer's number), and that it sits in the very block this round read.
    const receipts = await this.receipts([...new Set(hits.map((hit) => hit.transfer.transactionHash))]);
    const byHash = new Map(receipts.map((receipt) => [receipt.transactionHash, receipt]));
    const hashAt = new Map(blocks.map((block) => [Number(block.number), block.hash]));
    const transfers = hits.flatMap(({ transfer, log }) => {
      const receipt = byHash.get(transfer.transactionHash)!;
      if (receipt.blockHash !== hashAt.get(transfer.blockNumber)) {
        throw new MalformedNodeAnswerError(
          `the receipt of ${transfer.transactionHash} is in block ${receipt.blockHash}, not ${transfer.blockHash} read this round`,
        );
      }
      if (!log) return receipt.status === '0x1' ? [transfer] : [];
      const position = receipt.logs.findIndex((candidate) => candidate.logIndex === log.logIndex);
      if (receipt.status !== '0x1' || position === -1) {
        throw new MalformedNodeAnswerError(`eth_getLogs gave a Transfer of ${transfer.transactionHash} that its receipt does not hold`);
      }
      return [{ ...transfer, logIndex: position }];
    });
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

  async inclusions(transfers: RecordedTransfer[]): Promise<Array<Inclusion | null>> {
    const receipts = (await Promise.all(
      transfers.map((transfer) => this.provider.send('eth_getTransactionReceipt', [transfer.transactionHash])),
    )) as Array<RawReceipt | null>;
    // A native transfer's recipient and amount are the transaction's own, not its receipt's.
    const transactions = (await Promise.all(
      transfers.map((transfer, i) =>
        transfer.logIndex === NATIVE_LOG_INDEX && receipts[i] ? this.provider.send('eth_getTransactionByHash', [transfer.transactionHash]) : null,
      ),
    )) as Array<{ to: string | null; value: string } | null>;
    // An internal transfer's are its frame's, in the transaction's call trace as it ran there.
    const internalPayments = await Promise.all(
      transfers.map((transfer, i) => {
        const receipt = receipts[i];
        return internalTransferOrdinal(transfer.logIndex) !== undefined && receipt?.status === '0x1'
          ? this.tracedPayments(transfer.transactionHash, receipt.blockHash)
          : null;
      }),
    );
    return transfers.map((transfer, i) => {
      const receipt = receipts[i];
      if (!receipt) return null;
      const inclusion = { blockNumber: Number(receipt.blockNumber), blockHash: receipt.blockHash };
      if (receipt.status !== '0x1') return { ...inclusion, pays: null };
      const ordinal = internalTransferOrdinal(transfer.logIndex);
      if (ordinal !== undefined) {
        const payment = internalPayments[i]![ordinal];
        return { ...inclusion, pays: payment ? { to: payment.to, amount: payment.amount.toString(), currency: this.options.nativeCurrency } : null };
      }
      if (transfer.logIndex === NATIVE_LOG_INDEX) {
        const transaction = transactions[i];
        const paid = transaction?.to
          ? { to: getAddress(transaction.to), amount: BigInt(transaction.value).toString(), currency: this.options.nativeCurrency }
          : null;
        return { ...inclusion, pays: paid };
      }
      const paid = receipt.logs.map((log) => {
        const found = this.decodeTransfer(log)?.transfer;
        return found ? { currency: found.currency, to: found.to, amount: found.amount } : null;
      });
      if (transfer.legacyLogIndex) return { ...inclusion, pays: paid.find((candidate) => paysTheSame(transfer, candidate)) ?? null };
      return { ...inclusion, pays: paid[transfer.logIndex] ?? null };
    });
  }

  // The scans read raw JSON-RPC results: building library objects for thousands of logs and
  // transactions per range costs more than the request itself.

  /** Blocks fromBlock..toBlock with their transactions, one chain: each block's parent is the one before it. */
  private async blocks(fromBlock: number, toBlock: number): Promise<RawBlock[]> {
    const numbers = Array.from({ length: toBlock - fromBlock + 1 }, (_, i) => fromBlock + i);
    const blocks = (await Promise.all(
      numbers.map((number) => this.provider.send('eth_getBlockByNumber', [toQuantity(number), true])),
    )) as Array<RawBlock | null>;
    return blocks.map((block, i) => {
      // A block the node does not have yet fails the round (retried), rather than being skipped.
      if (block === null) throw new Error(`the node has no block ${numbers[i]} yet`);
      if (
        typeof block !== 'object' ||
        !Array.isArray(block.transactions) ||
        typeof block.hash !== 'string' ||
        typeof block.timestamp !== 'string' ||
        Number(block.number) !== numbers[i]
      ) {
        throw new MalformedNodeAnswerError(`block ${numbers[i]} came without its transactions, hash, timestamp or number`);
      }
      if (i > 0 && block.parentHash !== blocks[i - 1]!.hash) {
        throw new MalformedNodeAnswerError(`block ${numbers[i]} is not the child of block ${numbers[i - 1]} as read this round (answers from two forks)`);
      }
      return block;
    });
  }

  /** The configured tokens' Transfer logs; a range the node refuses as too large is split in two. */
  private async tokenLogs(fromBlock: number, toBlock: number): Promise<RawLog[]> {
    if (this.tokensByAddress.size === 0) return [];
    let logs: unknown;
    try {
      logs = await this.provider.send('eth_getLogs', [{ fromBlock: toQuantity(fromBlock), toBlock: toQuantity(toBlock), ...this.transferFilter() }]);
    } catch (error) {
      if (toBlock === fromBlock || !RANGE_TOO_LARGE.test(nodeMessage(error))) throw error;
      // Remembered for the next rounds: the node will refuse as much again.
      const half = Math.ceil((toBlock - fromBlock + 1) / 2);
      this.blockRange = Math.min(this.blockRange, half);
      return [...(await this.tokenLogs(fromBlock, fromBlock + half - 1)), ...(await this.tokenLogs(fromBlock + half, toBlock))];
    }
    if (!Array.isArray(logs)) throw new MalformedNodeAnswerError(`eth_getLogs answered ${JSON.stringify(logs)?.slice(0, 200)}, not a list of logs`);
    return logs as RawLog[];
  }

  private transferFilter() {
    return { address: [...this.tokensByAddress.keys()], topics: [TRANSFER_TOPIC] };
  }

  /**
   * Every log must come from a block read this round, by number and hash: a backend on another
   * fork fails the round. A block whose bloom admits a watched token's Transfer but that yielded
   * no log may have met a backend that lags for logs: it is asked again by its hash, and any log
   * found then fails the round too.
   */
  private async checkLogsAgainstBlocks(blocks: RawBlock[], logs: RawLog[]): Promise<void> {
    const hashAt = new Map(blocks.map((block) => [Number(block.number), block.hash]));
    const withLogs = new Set<string>();
    for (const log of logs) {
      if (log.removed || hashAt.get(Number(log.blockNumber)) !== log.blockHash) {
        throw new MalformedNodeAnswerError(`eth_getLogs gave a log of block ${Number(log.blockNumber)} from another fork (hash ${log.blockHash})`);
      }
      withLogs.add(log.blockHash);
    }
    const suspects = blocks.filter((block) => !withLogs.has(block.hash) && this.bloomAdmitsTransfer(block.logsBloom));
    const recounted = (await Promise.all(
      suspects.map((block) => this.provider.send('eth_getLogs', [{ blockHash: block.hash, ...this.transferFilter() }])),
    )) as unknown[];
    recounted.forEach((found, i) => {
      if (!Array.isArray(found)) throw new MalformedNodeAnswerError(`eth_getLogs by hash answered ${JSON.stringify(found)?.slice(0, 200)}`);
      if (found.length > 0) {
        throw new MalformedNodeAnswerError(
          `eth_getLogs left out ${found.length} Transfer log(s) of block ${Number(suspects[i]!.number)} (a backend that lags for logs)`,
        );
      }
    });
  }

  /** Whether a block's logs bloom may hold a Transfer of a configured token (no bloom: nothing to check). */
  private bloomAdmitsTransfer(bloom: string | undefined): boolean {
    if (!bloom || !/^0x[0-9a-fA-F]{512}$/.test(bloom)) return false;
    const bits = getBytes(bloom);
    const admits = (item: string) => bloomPositions(item).every(([byte, mask]) => (bits[byte]! & mask) !== 0);
    return admits(TRANSFER_TOPIC) && [...this.tokensByAddress.keys()].some(admits);
  }

  private decodeTransfer(log: RawLog): { transfer: DetectedTransfer; log: RawLog } | undefined {
    const currency = this.tokensByAddress.get(getAddress(log.address));
    // A Transfer has two indexed addresses and the amount as data; anything else is not one.
    if (!currency || log.topics[0] !== TRANSFER_TOPIC || log.topics.length !== 3 || log.data.length !== 66) return undefined;
    const amount = BigInt(log.data);
    if (amount === 0n) return undefined;
    return {
      log,
      transfer: {
        transactionHash: log.transactionHash,
        // Numbered by the receipt once the transfer is kept (the scan reads it then).
        logIndex: 0,
        blockNumber: Number(log.blockNumber),
        blockHash: log.blockHash,
        from: getAddress(`0x${log.topics[1]!.slice(26)}`),
        to: getAddress(`0x${log.topics[2]!.slice(26)}`),
        amount: amount.toString(),
        currency,
      },
    };
  }

  /**
   * The internal transfers in these blocks, from their call traces (none when tracing is off).
   * The traces must be the blocks' own: asked for by hash (callTracer), or each naming the
   * block's hash (parity), with every transaction of the block traced.
   */
  private async internalTransfers(blocks: RawBlock[]): Promise<Array<{ transfer: DetectedTransfer; log?: undefined }>> {
    if (!this.options.callTracer) return [];
    const traced = blocks.filter((block) => block.transactions.length > 0);
    const payments = await Promise.all(
      traced.map((block) =>
        (this.options.callTracer === 'parity' ? this.parityBlockPayments(block) : this.callTracerBlockPayments(block)).catch((error: unknown) => {
          // A node without archive state cannot trace a block older than the state it keeps (a
          // catch-up, a reorg rescan, a devnet restarted from its saved state). Failing the round
          // would stall every deposit of the chain for good: the block is scanned without its
          // internal transfers instead, and the operator is told which (a rescan from an archive node finds them).
          const reason = nodeMessage(error);
          if (!STATE_GONE.test(reason)) throw error;
          this.options.onUntraceableBlock?.(Number(block.number), reason);
          return new Map<string, InternalPayment[]>();
        }),
      ),
    );
    return traced.flatMap((block, i) =>
      [...payments[i]!].flatMap(([transactionHash, paid]) =>
        paid.map((payment, k) => ({
          transfer: {
            transactionHash,
            logIndex: internalTransferIndex(k),
            blockNumber: Number(block.number),
            blockHash: block.hash,
            from: payment.from,
            to: payment.to,
            amount: payment.amount.toString(),
            currency: this.options.nativeCurrency,
          },
        })),
      ),
    );
  }

  /** Each transaction's internal payments in a block, by geth's callTracer over the block read by its hash. */
  private async callTracerBlockPayments(block: RawBlock): Promise<Map<string, InternalPayment[]>> {
    const number = Number(block.number);
    const answer = (await this.provider.send('debug_traceBlockByHash', [block.hash, { tracer: 'callTracer' }])) as unknown;
    if (!Array.isArray(answer) || answer.length !== block.transactions.length) {
      throw new MalformedNodeAnswerError(
        `debug_traceBlockByHash gave ${Array.isArray(answer) ? answer.length : 'no'} traces for the ${block.transactions.length} transactions of block ${number}`,
      );
    }
    return new Map(
      block.transactions.map((tx, i) => {
        const traced = answer[i] as { txHash?: string; result?: CallTracerFrame; error?: string } | null;
        // Older nodes leave txHash out: the traces come in the block's order.
        if (traced?.txHash !== undefined && traced.txHash.toLowerCase() !== tx.hash.toLowerCase()) {
          throw new MalformedNodeAnswerError(`debug_traceBlockByHash gave the trace of ${traced.txHash} where block ${number} has ${tx.hash}`);
        }
        if (!traced?.result) throw new MalformedNodeAnswerError(`the node could not trace ${tx.hash}: ${String(traced?.error ?? 'no result').slice(0, 200)}`);
        return [tx.hash, internalPaymentsOfCallTrace(traced.result, tx.hash)];
      }),
    );
  }

  /**
   * Each transaction's internal payments in a block, by trace_block. The call takes a number, so
   * every trace must name the block's hash, and every transaction of the block must have its
   * top-level trace: a node that lags for traces answers a block it lacks with none at all.
   */
  private async parityBlockPayments(block: RawBlock): Promise<Map<string, InternalPayment[]>> {
    const number = Number(block.number);
    const answer = (await this.provider.send('trace_block', [toQuantity(number)])) as unknown;
    if (!Array.isArray(answer)) throw new MalformedNodeAnswerError(`trace_block answered ${JSON.stringify(answer)?.slice(0, 200)} for block ${number}`);
    const byTransaction = new Map(block.transactions.map((tx) => [tx.hash.toLowerCase(), [] as ParityTrace[]]));
    for (const trace of answer as ParityTrace[]) {
      // Block and uncle rewards (proof-of-work chains) belong to no transaction.
      if (!trace?.transactionHash) continue;
      if (trace.blockHash?.toLowerCase() !== block.hash.toLowerCase()) {
        throw new MalformedNodeAnswerError(`trace_block gave a trace of block ${number} from another fork (hash ${trace.blockHash})`);
      }
      const traces = byTransaction.get(trace.transactionHash.toLowerCase());
      if (!traces) throw new MalformedNodeAnswerError(`trace_block gave a trace of ${trace.transactionHash}, which block ${number} does not hold`);
      traces.push(trace);
    }
    return new Map(
      block.transactions.map((tx) => {
        const traces = byTransaction.get(tx.hash.toLowerCase())!;
        if (!traces.some((trace) => Array.isArray(trace.traceAddress) && trace.traceAddress.length === 0)) {
          throw new MalformedNodeAnswerError(`trace_block left out transaction ${tx.hash} of block ${number} (a node that lags for traces)`);
        }
        return [tx.hash, internalPaymentsOfParityTraces(traces, tx.hash)];
      }),
    );
  }

  /**
   * A transaction's internal payments, traced again on its own (for inclusions). Parity traces
   * name their block, which must be the receipt's; callTracer's name none.
   */
  private async tracedPayments(transactionHash: string, blockHash: string): Promise<InternalPayment[]> {
    if (!this.options.callTracer) {
      throw new Error(
        `a recorded transfer of ${transactionHash} is native coin sent by a contract, which only a call trace shows, and call tracing is off for this chain (INFLOW_TRACE_<NETWORK>_<MODE>)`,
      );
    }
    if (this.options.callTracer === 'callTracer') {
      return internalPaymentsOfCallTrace(await this.provider.send('debug_traceTransaction', [transactionHash, { tracer: 'callTracer' }]), transactionHash);
    }
    const traces = (await this.provider.send('trace_transaction', [transactionHash])) as unknown;
    if (!Array.isArray(traces) || !traces.some((trace: ParityTrace) => trace?.traceAddress?.length === 0)) {
      throw new MalformedNodeAnswerError(`trace_transaction gave no trace of ${transactionHash}, whose receipt the node has`);
    }
    if (traces.some((trace: ParityTrace) => trace.blockHash?.toLowerCase() !== blockHash.toLowerCase())) {
      throw new MalformedNodeAnswerError(`trace_transaction traced ${transactionHash} in another block than its receipt's ${blockHash}`);
    }
    return internalPaymentsOfParityTraces(traces as ParityTrace[], transactionHash);
  }

  private async receipts(transactionHashes: string[]): Promise<RawReceipt[]> {
    const receipts = (await Promise.all(transactionHashes.map((hash) => this.provider.send('eth_getTransactionReceipt', [hash])))) as Array<RawReceipt | null>;
    return receipts.map((receipt, i) => {
      if (!receipt) throw new Error(`the node has no receipt for ${transactionHashes[i]} yet`);
      if ((receipt.status !== '0x1' && receipt.status !== '0x0') || !Array.isArray(receipt.logs)) {
        throw new MalformedNodeAnswerError(`the receipt of ${transactionHashes[i]} has no status or logs`);
      }
      return receipt;
    });
  }
}

/** A block's native-coin transfers: transactions that send value to an address (their receipts say whether they succeeded). */
function nativeTransfersOf(block: RawBlock, currency: string): Array<{ transfer: DetectedTransfer; log?: undefined }> {
  return block.transactions
    .filter((tx) => tx.to !== null && BigInt(tx.value) > 0n)
    .map((tx) => ({
      transfer: {
        transactionHash: tx.hash,
        logIndex: NATIVE_LOG_INDEX,
        blockNumber: Number(block.number),
        blockHash: block.hash,
        from: getAddress(tx.from),
        to: getAddress(tx.to!),
        amount: BigInt(tx.value).toString(),
        currency,
      },
    }));
}

/**
 * A transaction's internal payments from its callTracer trace: the CALL and SELFDESTRUCT frames
 * below the top that moved value and took effect (no error on them or on any frame above them),
 * depth-first in the order they ran. DELEGATECALL, CALLCODE and STATICCALL move nothing to another
 * address; CREATE pays a contract made there and then, never a deposit address.
 */
function internalPaymentsOfCallTrace(top: unknown, transactionHash: string): InternalPayment[] {
  const payments: InternalPayment[] = [];
  const visit = (frame: unknown, tookEffect: boolean) => {
    if (!isCallTracerFrame(frame))
      throw new MalformedNodeAnswerError(`the call trace of ${transactionHash} has a frame callTracer does not write: ${JSON.stringify(frame)?.slice(0, 200)}`);
    const effective = tookEffect && !frame.error;
    if (frame !== top && effective && (frame.type === 'CALL' || frame.type === 'SELFDESTRUCT')) {
      const amount = quantityOf(frame.value ?? '0x0', `a ${frame.type} value in the trace of ${transactionHash}`);
      if (amount > 0n) payments.push({ from: addressOf(frame.from, transactionHash), to: addressOf(frame.to, transactionHash), amount });
    }
    for (const call of frame.calls ?? []) visit(call, effective);
  };
  visit(top, true);
  return payments;
}

function isCallTracerFrame(frame: unknown): frame is CallTracerFrame {
  const candidate = frame as CallTracerFrame | null;
  return typeof candidate?.type === 'string' && typeof candidate.from === 'string' && (candidate.calls === undefined || Array.isArray(candidate.calls));
}

/**
 * A transaction's internal payments from its parity-style traces: `call` frames (callType `call`)
 * and `suicide` frames below the top that moved value and took effect, in depth-first order (the
 * traceAddress order), the same frames callTracer's CALL and SELFDESTRUCT are.
 */
function internalPaymentsOfParityTraces(traces: ParityTrace[], transactionHash: string): InternalPayment[] {
  const malformed = (trace: unknown) => new MalformedNodeAnswerError(`a trace of ${transactionHash} is not readable: ${JSON.stringify(trace)?.slice(0, 200)}`);
  for (const trace of traces) {
    if (typeof trace?.type !== 'string' || typeof trace.action !== 'object' || trace.action === null || !Array.isArray(trace.traceAddress)) {
      throw malformed(trace);
    }
  }
  const depthFirst = [...traces].sort((a, b) => compareTraceAddresses(a.traceAddress, b.traceAddress));
  const failed = new Set<string>();
  const payments: InternalPayment[] = [];
  for (const trace of depthFirst) {
    const path = trace.traceAddress;
    if (trace.error) failed.add(path.join('.'));
    // A frame takes effect when neither it nor any frame above it (a prefix of its address) failed.
    const effective = !Array.from({ length: path.length + 1 }, (_, depth) => path.slice(0, depth).join('.')).some((frame) => failed.has(frame));
    if (path.length === 0 || !effective) continue;
    const { action } = trace;
    if (trace.type === 'call' && action.callType === 'call') {
      const amount = quantityOf(action.value ?? '0x0', `a call value in the traces of ${transactionHash}`);
      if (amount > 0n) payments.push({ from: addressOf(action.from, transactionHash), to: addressOf(action.to, transactionHash), amount });
    } else if (trace.type === 'suicide') {
      const amount = quantityOf(action.balance ?? '0x0', `a selfdestruct balance in the traces of ${transactionHash}`);
      if (amount > 0n) payments.push({ from: addressOf(action.address, transactionHash), to: addressOf(action.refundAddress, transactionHash), amount });
    }
  }
  return payments;
}

/** Depth-first order of two frames' places in a call tree: a frame before the frames under it, siblings in the order they ran. */
function compareTraceAddresses(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function quantityOf(value: unknown, what: string): bigint {
  if (typeof value !== 'string' || !/^0x[0-9a-fA-F]+$/.test(value))
    throw new MalformedNodeAnswerError(`${what} is not a hex quantity: ${JSON.stringify(value)}`);
  return BigInt(value);
}

function addressOf(value: unknown, transactionHash: string): string {
  if (typeof value !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(value)) {
    throw new MalformedNodeAnswerError(`a frame in the trace of ${transactionHash} has no address where it moves value: ${JSON.stringify(value)}`);
  }
  return getAddress(value);
}

/** The three bits (byte index, mask) an item sets in a 2048-bit logs bloom (the yellow paper's M3:2048). */
function bloomPositions(item: string): Array<[number, number]> {
  const hash = getBytes(keccak256(item));
  return [0, 2, 4].map((i) => {
    const bit = ((hash[i]! << 8) | hash[i + 1]!) & 2047;
    return [255 - (bit >> 3), 1 << (bit & 7)];
  });
}

/** The message a JSON-RPC error carries, however the client library wrapped it. */
function nodeMessage(error: unknown): string {
  const wrapped = error as { error?: { message?: unknown }; info?: { error?: { message?: unknown } }; message?: unknown };
  return [wrapped.error?.message, wrapped.info?.error?.message, wrapped.message].filter((part) => typeof part === 'string').join(' ');
}
