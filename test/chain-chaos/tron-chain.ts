/**
 * The runner's hand on the Tron devnet stand-in (dev/devnet/tron-devnet.ts), never through the
 * fault proxy: mining, payments, reorgs and re-sends through its /devnet/ calls, and the reads the
 * oracle trusts through its java-tron calls. Also the Tron payments the run makes.
 *
 * The stand-in sends every payment from its funded account (it checks no signature or balance),
 * so there is no payer to fund or drain: a dropped payment's fate is carried out by /devnet/resend,
 * which mines the same txID again as it was, failing, or (a TRC-20 transfer) paying less.
 *
 * Kinds: `trx` (a TransferContract), `trc20` (USDT transfer), `trx-contract` (TRX through the
 * stand-in's forwarder contract: an internal transaction in the call's info) and `dust` (TRX or
 * USDT of a few base units: recorded as dust, never credited).
 */
import { tronAddressToHex } from '../../src/chains/tron/address';
import { TRANSFER_TOPIC } from '../../src/chains/tron/tron.adapter';
import type { Prng } from '../chaos/prng';
import type { ChainTransfer } from './chain-transfer';

export const tronPaymentKinds = ['trx', 'trc20', 'trx-contract', 'dust'] as const;
export type TronPaymentKind = (typeof tronPaymentKinds)[number];

export interface TronPayment {
  /** t1, t2, … in plan order. */
  id: string;
  kind: TronPaymentKind;
  currency: 'TRX' | 'USDT';
  /** The customer's Tron address (base58check). */
  to: string;
  amount: bigint;
  /** Set when first sent: the stand-in names each transaction. */
  txID: string | undefined;
}

const CALL_TIMEOUT_MS = 30_000;

export class TronNode {
  constructor(readonly url: string) {}

  async call<T>(path: string, body: unknown = {}): Promise<T> {
    const response = await fetch(new URL(path, this.url), { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(CALL_TIMEOUT_MS) });
    const answer = (await response.json()) as T & { Error?: string };
    if (!response.ok || answer.Error) throw new Error(`${path}: ${answer.Error ?? response.status}`);
    return answer;
  }

  async head(): Promise<number> {
    return (await this.call<{ head: number }>('/devnet/info')).head;
  }

  async mine(): Promise<number> {
    return (await this.call<{ head: number }>('/devnet/mine', { blocks: 1 })).head;
  }

  async send(payment: TronPayment): Promise<string> {
    const body = { to: payment.to, amount: payment.amount.toString(), currency: payment.currency, viaContract: payment.kind === 'trx-contract' };
    return (await this.call<{ txid: string }>('/devnet/transfer', body)).txid;
  }

  /** Replaces the last `depth` blocks, leaving out `drop` (kept by the stand-in for /devnet/resend). */
  async reorg(depth: number, drop: string[]): Promise<void> {
    await this.call('/devnet/reorg', { depth, drop });
  }

  async resend(txID: string, as: { fail?: boolean; paid?: bigint } = {}): Promise<void> {
    await this.call('/devnet/resend', { txID, fail: as.fail === true, ...(as.paid === undefined ? {} : { paid: as.paid.toString() }) });
  }

  /** Blocks from..to (inclusive), as java-tron writes them. */
  async blocks(from: number, to: number): Promise<TronBlock[]> {
    const blocks: TronBlock[] = [];
    for (let start = from; start <= to; start += 100) {
      const answer = await this.call<{ block?: TronBlock[] }>('/wallet/getblockbylimitnext', { startNum: start, endNum: Math.min(to + 1, start + 100) });
      blocks.push(...(answer.block ?? []));
    }
    return blocks;
  }

  async infos(num: number): Promise<TronInfo[]> {
    return this.call<TronInfo[]>('/wallet/gettransactioninfobyblocknum', { num });
  }
}

export interface TronBlock {
  blockID: string;
  block_header: { raw_data: { number?: number } };
  transactions?: Array<{
    txID: string;
    ret?: Array<{ contractRet?: string }>;
    raw_data: { contract: Array<{ type: string; parameter: { value: { amount?: number; to_address?: string } } }> };
  }>;
}

export interface TronInfo {
  id: string;
  receipt?: { result?: string };
  log?: Array<{ address: string; topics?: string[]; data?: string }>;
  internal_transactions?: Array<{
    transferTo_address?: string;
    callValueInfo?: Array<{ callValue?: number; tokenId?: string }>;
    note?: string;
    rejected?: boolean;
  }>;
}

export const tronBlockNumber = (block: TronBlock) => block.block_header.raw_data.number ?? 0;

/** A payment of `kind` to a customer picked by `prng`. */
export function planTronPayment(prng: Prng, number: number, kind: TronPaymentKind, customers: string[]): TronPayment {
  const to = prng.pick(customers);
  const whole = () => BigInt(prng.int(5, 500)) * 1_000_000n + BigInt(prng.int(0, 999_999));
  const base = { id: `t${number}`, kind, to, txID: undefined };
  switch (kind) {
    case 'trc20':
      return { ...base, currency: 'USDT', amount: whole() };
    case 'trx':
    case 'trx-contract':
      return { ...base, currency: 'TRX', amount: whole() };
    case 'dust':
      // A few base units: far below 0.01 USDT (10,000 units) and 0.1 TRX (100,000 sun).
      return { ...base, currency: prng.chance(0.5) ? 'USDT' : 'TRX', amount: BigInt(prng.int(1, 99)) };
  }
}

/**
 * Every transfer of money to a customer on the stand-in's final chain from `startBlock` to the
 * head, read straight from it: successful TRX TransferContracts, USDT Transfer logs of SUCCESS
 * infos, and TRX internal transfers (call notes) that were not rejected in SUCCESS infos.
 */
export async function finalTronTransfers(node: TronNode, usdtAddress: string, startBlock: number, customerAddresses: string[]): Promise<ChainTransfer[]> {
  const customers = new Map(customerAddresses.map((address) => [tronAddressToHex(address)!.slice(2).toLowerCase(), address]));
  const usdt = tronAddressToHex(usdtAddress)!.slice(2).toLowerCase();
  const customerOfHex = (hex: string | undefined) => (hex ? customers.get(hex.toLowerCase().replace(/^41/, '')) : undefined);
  const transfers: ChainTransfer[] = [];
  const head = await node.head();
  for (const block of await node.blocks(startBlock, head)) {
    const blockNumber = tronBlockNumber(block);
    const place = (txHash: string) => ({ network: 'tron' as const, txHash: txHash.toLowerCase(), blockNumber });
    const transactions = block.transactions ?? [];
    for (const transaction of transactions) {
      const contract = transaction.raw_data.contract[0]!;
      const to = customerOfHex(contract.parameter.value.to_address);
      const amount = BigInt(contract.parameter.value.amount ?? 0);
      if (contract.type === 'TransferContract' && transaction.ret?.[0]?.contractRet === 'SUCCESS' && to && amount > 0n)
        transfers.push({ ...place(transaction.txID), currency: 'TRX', to, amount, via: 'native' });
    }
    if (!transactions.some((transaction) => transaction.raw_data.contract[0]!.type === 'TriggerSmartContract')) continue;
    for (const info of await node.infos(blockNumber)) {
      if (info.receipt?.result !== 'SUCCESS') continue;
      for (const internal of info.internal_transactions ?? []) {
        const to = customerOfHex(internal.transferTo_address);
        const sun = BigInt((internal.callValueInfo ?? []).find((value) => !value.tokenId)?.callValue ?? 0);
        if (!internal.rejected && internal.note === Buffer.from('call').toString('hex') && to && sun > 0n)
          transfers.push({ ...place(info.id), currency: 'TRX', to, amount: sun, via: 'internal' });
      }
      for (const log of info.log ?? []) {
        if (log.address.toLowerCase() !== usdt || log.topics?.[0] !== TRANSFER_TOPIC || log.topics.length !== 3) continue;
        const to = customerOfHex(log.topics[2]!.slice(24));
        const amount = BigInt(`0x${log.data ?? '0'}`);
        if (to && amount > 0n) transfers.push({ ...place(info.id), currency: 'USDT', to, amount, via: 'log' });
      }
    }
  }
  return transfers;
}
