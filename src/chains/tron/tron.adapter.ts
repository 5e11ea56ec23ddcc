/**
 * Reads a Tron chain for deposits through the HTTP API a java-tron full node serves (and hosted
 * providers in front of it): TRX payments (`TransferContract` transactions whose `contractRet` is
 * SUCCESS) and TRC-20 `Transfer` events of the configured token contracts (from the block's
 * transaction infos, whose receipt must be SUCCESS).
 *
 * Why the HTTP API and not java-tron's Ethereum-compatible /jsonrpc: /jsonrpc fills a
 * transaction's `value` for TRX transfers, TRC-10 transfers, freezes, votes and contract call
 * values alike, with `type` always 0x0, so it cannot tell a TRX payment from the rest (java-tron's
 * TransactionResult.java and JsonRpcApiUtil.java); its eth_getLogs is off unless the node enables
 * it, caps ranges at 5,000 blocks, and its blocks' logsBloom is always zero. The HTTP API names
 * each contract's type, so a TRX payment is known for what it is.
 *
 * TRX a contract sends while a transaction runs (an internal transfer) is read from the same
 * transaction infos: java-tron records each call a contract makes as an internal transaction
 * (`internal_transactions`: `caller_address`, `transferTo_address`, `callValueInfo` with the TRX
 * `callValue` and any TRC-10 `tokenId`, `note` in hex, `rejected` when it or a call above it
 * failed; Tron.proto's InternalTransaction, TransactionUtil.buildInternalTransaction). A node
 * writes them only when its config says `vm.saveInternalTx = true` (off by default), so the
 * adapter cannot tell "none" from "not kept" and says so in limitations().
 *
 * Calls (java-tron's documentation, docs/api/http.md in tronprotocol/documentation-en):
 * `/wallet/getnowblock` (head), `/wallet/getblockbylimitnext` (blocks [startNum, endNum), at most
 * 100 a call), `/wallet/gettransactioninfobyblocknum` (logs and receipts of a block's
 * transactions), `/wallet/getblockbynum` and `/wallet/gettransactioninfobyid` (canonical checks).
 * Addresses are read in hex (`41…`) and converted to base58check here, exactly.
 */
import {
  MalformedNodeAnswerError,
  NATIVE_LOG_INDEX,
  paysTheSame,
  compareWithinTransaction,
  internalTransferIndex,
  internalTransferOrdinal,
  type ChainAdapter,
  type Inclusion,
  type PaidTransfer,
  type RecordedTransfer,
  type DetectedTransfer,
  type TokenContract,
  type WatchedAddresses,
  type ScannedRange,
} from '../chain-adapter';
import { tronAddressFromAccountId, tronAddressToHex } from './address';

/** keccak256("Transfer(address,address,uint256)"), as java-tron writes topics: hex without 0x. */
export const TRANSFER_TOPIC = 'ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef';
/** getblockbylimitnext answers at most this many blocks a call. */
const BLOCKS_PER_CALL = 100;
const REQUEST_TIMEOUT_MS = 15_000;
/** Transaction-info calls in flight at once: a catching-up round must not flood a hosted node. */
const INFO_CALLS_AT_ONCE = 10;
/**
 * java-tron writes sun amounts as bare JSON integers (int64), and JSON.parse would round any above
 * 2^53 (about 9 billion TRX; the supply is larger): such amounts are read as strings, exactly.
 */
const LARGE_AMOUNT = /"(amount|callValue)"\s*:\s*(\d{16,})/g;
/** An internal transaction's `note` (hex of its kind): a call, or a SELFDESTRUCT paying its balance out. */
const CALL_NOTE = Buffer.from('call').toString('hex');
const SUICIDE_NOTE = Buffer.from('suicide').toString('hex');

interface RawContract {
  type: string;
  /** `amount` is a string when it was too large for a double (see LARGE_AMOUNT). */
  parameter: { value: { amount?: number | string; owner_address?: string; to_address?: string; contract_address?: string } };
}

interface RawTransaction {
  txID: string;
  ret?: Array<{ contractRet?: string }>;
  raw_data: { contract: RawContract[] };
}

interface RawBlock {
  blockID: string;
  block_header: { raw_data: { number?: number; timestamp?: number } };
  transactions?: RawTransaction[];
}

interface RawTransactionInfo {
  id: string;
  blockNumber?: number;
  receipt?: { result?: string };
  log?: Array<{ address: string; topics?: string[]; data?: string }>;
  internal_transactions?: RawInternalTransaction[];
}

/** `callValue` is a string when it was too large for a double (see LARGE_AMOUNT); zero fields are left out. */
interface RawInternalTransaction {
  caller_address?: string;
  transferTo_address?: string;
  callValueInfo?: Array<{ callValue?: number | string; tokenId?: string }>;
  note?: string;
  rejected?: boolean;
}

export interface TronAdapterOptions {
  /** The full node's HTTP API, e.g. http://127.0.0.1:8090 or https://api.trongrid.io. */
  rpcUrl: string;
  /** Headers on every request, e.g. a hosted provider's `TRON-PRO-API-KEY`. */
  headers?: Record<string, string>;
  nativeCurrency: string;
  /** TRC-20 contracts, base58check. */
  tokens: TokenContract[];
  maxBlockRange?: number;
}

export class TronAdapter implements ChainAdapter {
  /** Token contracts by their 20-byte hex (no 41 prefix), as transaction-info logs name them. */
  private readonly tokensByLogAddress: Map<string, string>;
  readonly maxBlockRange: number;

  constructor(private readonly options: TronAdapterOptions) {
    const hexes = options.tokens.map((token) => {
      const hex = tronAddressToHex(token.address);
      if (!hex) throw new RangeError(`the ${token.currency} contract "${token.address}" is not a Tron address`);
      return { currency: token.currency, hex };
    });
    this.tokensByLogAddress = new Map(hexes.map((token) => [token.hex.slice(2), token.currency]));
    this.maxBlockRange = options.maxBlockRange ?? 2_000;
  }

  async head(): Promise<number> {
    return blockNumberOf(await this.call<RawBlock>('/wallet/getnowblock', {}));
  }

  async transfersTo(fromBlock: number, toBlock: number, watched: WatchedAddresses): Promise<ScannedRange> {
    if (toBlock < fromBlock) throw new RangeError(`an empty range: ${fromBlock}..${toBlock}`);
    if (toBlock - fromBlock + 1 > this.maxBlockRange) {
      throw new RangeError(`at most ${this.maxBlockRange} blocks per call, asked for ${toBlock - fromBlock + 1}`);
    }
    const blocks = await this.blocks(fromBlock, toBlock);
    const transfers: DetectedTransfer[] = [];
    /** Each transaction's place in its block: transfers come out in chain order. */
    const positions = new Map<string, number>();
    const withContractCalls: RawBlock[] = [];
    for (const block of blocks) {
      const transactions = block.transactions ?? [];
      if (!Array.isArray(transactions)) throw new MalformedNodeAnswerError(`block ${blockNumberOf(block)} has no readable transactions`);
      for (const [position, transaction] of transactions.entries()) {
        const contract = transaction.raw_data?.contract?.[0];
        if (!contract || typeof transaction.txID !== 'string')
          throw new MalformedNodeAnswerError(`block ${blockNumberOf(block)} has a transaction without its contract`);
        positions.set(transaction.txID, position);
        if (contract.type !== 'TransferContract') continue;
        const result = transaction.ret?.[0]?.contractRet;
        if (typeof result !== 'string') throw new MalformedNodeAnswerError(`transaction ${transaction.txID} comes without its contractRet`);
        if (result !== 'SUCCESS') continue;
        const trx = trxTransfer(block, transaction, contract, this.options.nativeCurrency);
        if (trx) transfers.push(trx);
      }
      // A token transfer or a contract's TRX may come from any contract call (a wallet's, an
      // exchange's), so every block with one is read for its infos; blocks without one cost nothing more.
      if (transactions.some((transaction) => transaction.raw_data.contract[0]!.type === 'TriggerSmartContract')) withContractCalls.push(block);
    }
    for (let start = 0; start < withContractCalls.length; start += INFO_CALLS_AT_ONCE) {
      const batch = withContractCalls.slice(start, start + INFO_CALLS_AT_ONCE);
      const infos = await Promise.all(
        batch.map((block) => this.call<RawTransactionInfo[]>('/wallet/gettransactioninfobyblocknum', { num: blockNumberOf(block) })),
      );
      batch.forEach((block, i) => transfers.push(...this.contractCallTransfers(block, infos[i]!)));
    }

    const recipients = await watched([...new Set(transfers.map((transfer) => transfer.to))]);
    const place = (transfer: DetectedTransfer) => positions.get(transfer.transactionHash)!;
    return {
      transfers: transfers
        .filter((transfer) => recipients.has(transfer.to))
        .sort((a, b) => a.blockNumber - b.blockNumber || place(a) - place(b) || compareWithinTransaction(a.logIndex, b.logIndex)),
      toBlockHash: blocks.at(-1)!.blockID,
      blockTimes: new Map(blocks.map((block) => [blockNumberOf(block), blockTimeOf(block)])),
    };
  }

  limitations(): string[] {
    return [
      `TRX that contracts send (internal transactions) is seen only when the node keeps them (java-tron's vm.saveInternalTx = true, off by default; ` +
        'a node that turns it on keeps them from then on, not for blocks it had already processed)',
    ];
  }

  async blockTimestamp(num: number): Promise<number> {
    const block = await this.call<RawBlock | Record<string, never>>('/wallet/getblockbynum', { num });
    if (!('block_header' in block)) throw new MalformedNodeAnswerError(`block ${num} has no timestamp (is it past the head?)`);
    return blockTimeOf(block as RawBlock);
  }

  async blockHashes(numbers: number[]): Promise<Array<string | null>> {
    const blocks = await Promise.all(numbers.map((num) => this.call<RawBlock | Record<string, never>>('/wallet/getblockbynum', { num })));
    return blocks.map((block) => ('blockID' in block && typeof block.blockID === 'string' ? block.blockID : null));
  }

  async inclusions(transfers: RecordedTransfer[]): Promise<Array<Inclusion | null>> {
    const infos = await Promise.all(
      transfers.map((transfer) => this.call<RawTransactionInfo | Record<string, never>>('/wallet/gettransactioninfobyid', { value: transfer.transactionHash })),
    );
    const numbers = infos.map((info) => ('blockNumber' in info && typeof info.blockNumber === 'number' ? info.blockNumber : null));
    // A TRX payment's recipient, amount and result are the transaction's own, not its info's.
    const transactions = await Promise.all(
      transfers.map((transfer, i) =>
        transfer.logIndex === NATIVE_LOG_INDEX && numbers[i] !== null
          ? this.call<RawTransaction | Record<string, never>>('/wallet/gettransactionbyid', { value: transfer.transactionHash })
          : null,
      ),
    );
    const heights = [...new Set(numbers.filter((number): number is number => number !== null))];
    const hashes = new Map((await this.blockHashes(heights)).map((hash, i) => [heights[i]!, hash]));
    return transfers.map((transfer, i) => {
      const blockNumber = numbers[i] ?? null;
      const blockHash = blockNumber === null ? null : hashes.get(blockNumber);
      if (blockNumber === null || !blockHash) return null;
      if (transfer.logIndex === NATIVE_LOG_INDEX) {
        const transaction = transactions[i];
        const contract = transaction && 'raw_data' in transaction ? transaction.raw_data?.contract?.[0] : undefined;
        const paid =
          contract?.type === 'TransferContract' && (transaction as RawTransaction).ret?.[0]?.contractRet === 'SUCCESS'
            ? trxPayment(transaction as RawTransaction, contract, this.options.nativeCurrency)
            : undefined;
        return { blockNumber, blockHash, pays: paid ? { currency: paid.currency, to: paid.to, amount: paid.amount } : null };
      }
      const info = infos[i] as RawTransactionInfo;
      if (info.receipt?.result !== 'SUCCESS') return { blockNumber, blockHash, pays: null };
      const ordinal = internalTransferOrdinal(transfer.logIndex);
      if (ordinal !== undefined) {
        const payment = internalTrxPayments(info, this.options.nativeCurrency)[ordinal];
        return { blockNumber, blockHash, pays: payment ? { currency: payment.currency, to: payment.to, amount: payment.amount } : null };
      }
      const paid = (info.log ?? []).map((log) => this.decodeTransferLog(info.id, log));
      const pays = transfer.legacyLogIndex ? paid.find((candidate) => paysTheSame(transfer, candidate ?? null)) : paid[transfer.logIndex];
      return { blockNumber, blockHash, pays: pays ? { currency: pays.currency, to: pays.to, amount: pays.amount } : null };
    });
  }

  /** Blocks fromBlock..toBlock in order; a block the node does not have fails the call. */
  private async blocks(fromBlock: number, toBlock: number): Promise<RawBlock[]> {
    const calls = [];
    for (let start = fromBlock; start <= toBlock; start += BLOCKS_PER_CALL) {
      calls.push(
        this.call<{ block?: RawBlock[] }>('/wallet/getblockbylimitnext', { startNum: start, endNum: Math.min(toBlock, start + BLOCKS_PER_CALL - 1) + 1 }),
      );
    }
    const blocks = (await Promise.all(calls)).flatMap((answer) => answer.block ?? []);
    const byNumber = new Map(blocks.map((block) => [blockNumberOf(block), block]));
    return Array.from({ length: toBlock - fromBlock + 1 }, (_, i) => {
      const block = byNumber.get(fromBlock + i);
      if (!block) throw new Error(`the node has no block ${fromBlock + i} yet`);
      return block;
    });
  }

  /**
   * The configured tokens' Transfer events and the TRX internal transfers in a block's successful
   * contract calls. The infos must be the block's own, one per transaction: java-tron answers `[]`
   * for a block it does not have, and a node behind a load balancer may answer from another one,
   * so anything else fails the round rather than let the block's payments pass unseen. A token
   * transfer is numbered by its log's place among all the transaction's logs, an internal transfer
   * by its place among the transaction's TRX internal transfers (internalTransferIndex): the chain
   * alone sets both.
   */
  private contractCallTransfers(block: RawBlock, infos: RawTransactionInfo[]): DetectedTransfer[] {
    const number = blockNumberOf(block);
    const transactions = block.transactions ?? [];
    const mismatch = () =>
      new MalformedNodeAnswerError(
        `the transaction infos the node gave for block ${number} are not that block's (a node that lags, or answers from another block)`,
      );
    if (!Array.isArray(infos) || infos.length !== transactions.length) throw mismatch();
    const types = new Map(transactions.map((transaction) => [transaction.txID, transaction.raw_data.contract[0]!.type]));
    return infos.flatMap((info) => {
      if (!types.has(info.id) || info.blockNumber !== number) throw mismatch();
      if (types.get(info.id) !== 'TriggerSmartContract') return [];
      const result = info.receipt?.result;
      if (typeof result !== 'string') throw new MalformedNodeAnswerError(`the info of contract call ${info.id} comes without its receipt result`);
      if (result !== 'SUCCESS') return [];
      const place = { transactionHash: info.id, blockNumber: number, blockHash: block.blockID };
      const internal = internalTrxPayments(info, this.options.nativeCurrency).map((paid, k) => ({ ...place, logIndex: internalTransferIndex(k), ...paid }));
      const tokens = (info.log ?? []).flatMap((log, logIndex) => {
        const paid = this.decodeTransferLog(info.id, log);
        return paid ? [{ ...place, logIndex, ...paid }] : [];
      });
      return [...internal, ...tokens];
    });
  }

  /** A configured token's Transfer event, as what it pays; undefined for any other log (or a zero amount). */
  private decodeTransferLog(transactionId: string, log: NonNullable<RawTransactionInfo['log']>[number]): (PaidTransfer & { from: string }) | undefined {
    const currency = this.tokensByLogAddress.get(String(log.address).toLowerCase());
    const topics = log.topics ?? [];
    if (!currency || topics[0] !== TRANSFER_TOPIC) return undefined;
    // The token's own Transfer event, unreadable: the answer is broken, not the payment absent.
    if (topics.length !== 3 || !topics.every((topic) => /^[0-9a-f]{64}$/.test(topic)) || !/^[0-9a-f]{64}$/.test(log.data ?? '')) {
      throw new MalformedNodeAnswerError(`a ${currency} Transfer event of ${transactionId} is not readable: ${JSON.stringify(log).slice(0, 200)}`);
    }
    const amount = BigInt(`0x${log.data}`);
    if (amount === 0n) return undefined;
    return { from: addressOfTopic(topics[1]!), to: addressOfTopic(topics[2]!), amount: amount.toString(), currency };
  }

  private async call<T>(path: string, body: Record<string, unknown>): Promise<T> {
    const response = await fetch(new URL(path, this.options.rpcUrl), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...this.options.headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    if (!response.ok) throw new MalformedNodeAnswerError(`${path} answered HTTP ${response.status}: ${text.slice(0, 200)}`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text.replace(LARGE_AMOUNT, '"$1":"$2"'));
    } catch {
      throw new MalformedNodeAnswerError(`${path} answered something that is not JSON: ${text.slice(0, 200)}`);
    }
    if (typeof parsed !== 'object' || parsed === null) throw new MalformedNodeAnswerError(`${path} answered ${text.slice(0, 200)}`);
    if ('Error' in parsed) throw new MalformedNodeAnswerError(`${path} answered an error: ${String((parsed as { Error: unknown }).Error).slice(0, 200)}`);
    return parsed as T;
  }
}

function trxTransfer(block: RawBlock, transaction: RawTransaction, contract: RawContract, currency: string): DetectedTransfer | undefined {
  const paid = trxPayment(transaction, contract, currency);
  return paid && { transactionHash: transaction.txID, logIndex: NATIVE_LOG_INDEX, blockNumber: blockNumberOf(block), blockHash: block.blockID, ...paid };
}

/** What a TransferContract pays (undefined for nothing): the amount in sun, from the owner to the recipient. */
function trxPayment(transaction: RawTransaction, contract: RawContract, currency: string): (PaidTransfer & { from: string }) | undefined {
  const { amount, owner_address: owner, to_address: to } = contract.parameter.value;
  const integer = typeof amount === 'number' ? Number.isSafeInteger(amount) : /^\d+$/.test(amount ?? '');
  if (!integer || typeof owner !== 'string' || typeof to !== 'string') {
    throw new MalformedNodeAnswerError(`transaction ${transaction.txID} is a TransferContract without a whole amount, owner_address or to_address`);
  }
  const sun = BigInt(amount!);
  if (sun <= 0n) return undefined;
  return { from: addressOfHex(owner), to: addressOfHex(to), amount: sun.toString(), currency };
}

/**
 * The TRX a successful contract call's internal transactions paid, in the order java-tron recorded
 * them (depth-first: a call is recorded when it starts, before the calls it makes): `call` and
 * `suicide` internal transactions that carry TRX (the `callValueInfo` entry without a `tokenId`)
 * and were not `rejected` (java-tron rejects a failed call's and every call under it). `create`
 * pays a contract made there and then, never a deposit address; TRC-10 is not watched.
 */
function internalTrxPayments(info: RawTransactionInfo, currency: string): Array<PaidTransfer & { from: string }> {
  const internals = info.internal_transactions ?? [];
  if (!Array.isArray(internals)) throw new MalformedNodeAnswerError(`the internal transactions of ${info.id} are not a list`);
  return internals.flatMap((internal) => {
    if (typeof internal !== 'object' || internal === null) throw new MalformedNodeAnswerError(`an internal transaction of ${info.id} is not an object`);
    if (internal.rejected === true || (internal.note !== CALL_NOTE && internal.note !== SUICIDE_NOTE)) return [];
    const callValue = (internal.callValueInfo ?? []).find((value) => !value.tokenId)?.callValue ?? 0;
    const whole = typeof callValue === 'number' ? Number.isSafeInteger(callValue) : /^\d+$/.test(callValue);
    if (!whole || typeof internal.caller_address !== 'string' || typeof internal.transferTo_address !== 'string') {
      throw new MalformedNodeAnswerError(`an internal transaction of ${info.id} is not readable: ${JSON.stringify(internal).slice(0, 200)}`);
    }
    const sun = BigInt(callValue);
    if (sun <= 0n) return [];
    return [{ from: addressOfHex(internal.caller_address), to: addressOfHex(internal.transferTo_address), amount: sun.toString(), currency }];
  });
}

/** When a block was made, in ms since the epoch (java-tron writes ms). */
function blockTimeOf(block: RawBlock): number {
  const timestamp = block.block_header?.raw_data?.timestamp;
  if (typeof timestamp !== 'number') throw new MalformedNodeAnswerError(`block ${blockNumberOf(block)} has no timestamp`);
  return timestamp;
}

function blockNumberOf(block: RawBlock): number {
  const number = block?.block_header?.raw_data?.number;
  // The genesis block's number is 0, which java-tron's JSON leaves out.
  if (typeof block?.blockID !== 'string') throw new MalformedNodeAnswerError(`a block without blockID: ${JSON.stringify(block)?.slice(0, 200)}`);
  return typeof number === 'number' ? number : 0;
}

/** A 41… hex address (as the HTTP API writes it without `visible`) in base58check. */
function addressOfHex(hex: string): string {
  if (!/^41[0-9a-fA-F]{40}$/.test(hex)) throw new MalformedNodeAnswerError(`"${hex}" is not a Tron address in hex`);
  return tronAddressFromAccountId(Buffer.from(hex.slice(2), 'hex'));
}

/** An indexed address topic: the 20-byte account id, left-padded to 32 bytes. */
function addressOfTopic(topic: string): string {
  return tronAddressFromAccountId(Buffer.from(topic.slice(24), 'hex'));
}
