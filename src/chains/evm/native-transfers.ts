/**
 * Native-coin transfers: those a transaction makes itself (its `to` and `value`, in the block),
 * and those a contract makes while a transaction runs.
 *
 * The latter (an internal transfer: a Safe or ERC-4337 wallet paying out, an exchange's batch
 * withdrawal, any `call{value:}`) show in no transaction's `to` and `value` and in no log, only in
 * the call tree, so they are found in call traces when the network is configured to read them
 * (CallTracer below): each block with transactions is traced, the traces must be that very
 * block's, and each transfer is numbered by its frame's place in its transaction's call tree
 * (internalTransferIndex in chain-adapter.ts).
 */
import { toQuantity, type JsonRpcProvider } from 'ethers';
import { internalTransferIndex, MalformedNodeAnswerError, NATIVE_LOG_INDEX, type DetectedTransfer } from '../chain-adapter';
import { lowerCaseAddress } from './addresses';
import { internalPaymentsOfCallTrace, internalPaymentsOfParityTraces, type CallTracerFrame, type InternalPayment, type ParityTrace } from './call-traces';
import { nodeMessage, type RawBlock } from './rpc';

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

/** How nodes say they no longer keep the state a trace needs (geth, erigon, reth, nethermind, anvil phrasings). */
const STATE_GONE = /missing trie node|historical state|state (is )?not available|required state|pruned|resource not found/i;

/** A block's native-coin transfers: transactions that send value to an address (their receipts say whether they succeeded), addresses in lower case. */
export function nativeTransfersOf(block: RawBlock, currency: string): Array<{ transfer: DetectedTransfer; log?: undefined }> {
  return block.transactions
    .filter((tx) => tx.to !== null && BigInt(tx.value) > 0n)
    .map((tx) => ({
      transfer: {
        transactionHash: tx.hash,
        logIndex: NATIVE_LOG_INDEX,
        blockNumber: Number(block.number),
        blockHash: block.hash,
        from: lowerCaseAddress(tx.from, () => `transaction ${tx.hash}`),
        to: lowerCaseAddress(tx.to, () => `transaction ${tx.hash}`),
        amount: BigInt(tx.value).toString(),
        currency,
      },
    }));
}

export class InternalTransfers {
  constructor(
    private readonly provider: JsonRpcProvider,
    private readonly options: {
      nativeCurrency: string;
      callTracer?: CallTracer | undefined;
      /** Told of a block scanned without its internal transfers because the node no longer keeps its state (see inBlocks). */
      onUntraceableBlock?: (blockNumber: number, reason: string) => void;
    },
  ) {}

  /**
   * The internal transfers in these blocks, from their call traces (none when tracing is off).
   * The traces must be the blocks' own: asked for by hash (callTracer), or each naming the
   * block's hash (parity), with every transaction of the block traced.
   */
  async inBlocks(blocks: RawBlock[]): Promise<Array<{ transfer: DetectedTransfer; log?: undefined }>> {
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

  /**
   * A transaction's internal payments, traced again on its own (for inclusions). Parity traces
   * name their block, which must be the receipt's; callTracer's name none.
   */
  async ofTransaction(transactionHash: string, blockHash: string): Promise<InternalPayment[]> {
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
}
