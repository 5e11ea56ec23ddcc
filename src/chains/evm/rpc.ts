/**
 * The JSON-RPC shapes the EVM scans read (quantities are hex strings), and the reads they share.
 * The scans read raw JSON-RPC results: building library objects for thousands of logs and
 * transactions per range costs more than the request itself. Requests made together go out as
 * one JSON-RPC batch.
 */
import { toQuantity, type JsonRpcProvider } from 'ethers';
import { MalformedNodeAnswerError } from '../chain-adapter';

export interface RawLog {
  address: string;
  topics: string[];
  data: string;
  blockNumber: string;
  blockHash: string;
  transactionHash: string;
  logIndex: string;
  removed?: boolean;
}

export interface RawBlock {
  number: string;
  hash: string;
  parentHash: string;
  /** Seconds since the epoch, as a hex quantity. */
  timestamp: string;
  logsBloom?: string;
  transactions: Array<{ hash: string; from: string; to: string | null; value: string }>;
}

export interface RawReceipt {
  transactionHash: string;
  blockNumber: string;
  blockHash: string;
  status: string;
  logs: RawLog[];
}

/** Blocks fromBlock..toBlock with their transactions, one chain: each block's parent is the one before it. */
export async function readBlocks(provider: JsonRpcProvider, fromBlock: number, toBlock: number): Promise<RawBlock[]> {
  const numbers = Array.from({ length: toBlock - fromBlock + 1 }, (_, i) => fromBlock + i);
  const blocks = (await Promise.all(numbers.map((number) => provider.send('eth_getBlockByNumber', [toQuantity(number), true])))) as Array<RawBlock | null>;
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

/** The message a JSON-RPC error carries, however the client library wrapped it. */
export function nodeMessage(error: unknown): string {
  const wrapped = error as { error?: { message?: unknown }; info?: { error?: { message?: unknown } }; message?: unknown };
  return [wrapped.error?.message, wrapped.info?.error?.message, wrapped.message].filter((part) => typeof part === 'string').join(' ');
}
