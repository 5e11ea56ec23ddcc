/**
 * What sweeping needs of a Tron chain's nodes (java-tron's HTTP API; reads go to a node at the head,
 * broadcasts to every node, node-pool.ts): balances and resources, a solidified
 * block for transactions to reference, what energy a transfer takes, broadcasting signed
 * transactions and reading their infos. The worker builds transactions itself with the codec
 * (src/chains/tron/transaction.ts), never through the node's build endpoints: what it records
 * before the signer is asked is exactly what is signed. Broadcasting is idempotent: a transaction
 * the node has already is `DUP_TRANSACTION_ERROR`, which is success.
 */
import { tronAddressToHex } from '../chains/tron/address';
import { NodePool } from './node-pool';
import { type SignedTronTransaction, type TronContract, type TronRawData, TronTransactionError } from '../chains/tron/transaction';

/**
 * java-tron's default: a transaction expires a minute after the block it references. Once expired
 * and unmined it can never be mined, so a lost one is built again without any risk of paying twice.
 */
export const TRON_EXPIRATION_MS = 60_000;

export interface TronReferenceBlock {
  number: bigint;
  /** Bytes 6..8 of the block number and 8..16 of its id: the TaPoS fields of a transaction referencing it. */
  ref_block_bytes: string;
  ref_block_hash: string;
  timestamp: number;
}

export interface TronReceipt {
  blockNumber: bigint;
  status: 'succeeded' | 'reverted';
  /** TRX burned for it, sun: bandwidth and energy not covered by stake or delegation. */
  fee: bigint;
  energyUsed: bigint;
  /** Of the fee: what energy not covered by stake or delegation burned, and what bandwidth beyond the free allowance burned. */
  energyFee: bigint;
  bandwidthFee: bigint;
}

export interface TronResources {
  /** Energy available now: staked and delegated to the address, less what it used (recovering over a day). */
  energy: bigint;
  /** Bandwidth available now: the free daily allowance and the staked, less what was used. */
  bandwidth: bigint;
}

/** A broadcast the node refused: java-tron's code (SIGERROR, TAPOS_ERROR, …) and its message. */
export class TronBroadcastError extends Error {
  override name = 'TronBroadcastError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

export class TronTreasuryChain {
  private readonly pool: NodePool<string>;

  /** `rpcUrls` in order of preference (reads go to one at the head, broadcasts to all); `headers` go with every request. */
  constructor(
    rpcUrls: string | string[],
    private readonly headers: Record<string, string> = {},
    options?: { maxLagBlocks: number; refreshMs: number },
  ) {
    this.pool = new NodePool(typeof rpcUrls === 'string' ? [rpcUrls] : rpcUrls, (url) => this.headAt(url), options);
  }

  private async post<T>(rpcUrl: string, path: string, body: object): Promise<T> {
    const response = await fetch(new URL(path, rpcUrl), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...this.headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok) throw new Error(`${path} answered HTTP ${response.status}`);
    return (await response.json()) as T;
  }

  /** One call, to a node at the head. */
  private call<T>(path: string, body: object = {}): Promise<T> {
    return this.pool.read((url) => this.post<T>(url, path, body));
  }

  private async headAt(rpcUrl: string): Promise<bigint> {
    const block = await this.post<{ block_header: { raw_data: { number?: number } } }>(rpcUrl, '/wallet/getnowblock', {});
    return BigInt(block.block_header.raw_data.number ?? 0);
  }

  /**
   * The head, for a transaction to reference (as wallets do): the solidified block lags about a
   * minute, as long as a transaction lives. A head block a reorg takes away fails the
   * transaction's TaPoS check (TAPOS_ERROR): nothing is spent, and it is built again.
   */
  async referenceBlock(): Promise<TronReferenceBlock> {
    return this.referenceAt('/wallet/getnowblock');
  }

  /**
   * The solidified block, for a transaction that must never lose its reference to a reorg (a payout,
   * signed once: a TaPoS failure would leave it waiting for its expiration).
   */
  async solidifiedReferenceBlock(): Promise<TronReferenceBlock> {
    return this.referenceAt('/walletsolidity/getnowblock');
  }

  private async referenceAt(path: string): Promise<TronReferenceBlock> {
    const block = await this.call<{ blockID: string; block_header: { raw_data: { number?: number; timestamp: number } } }>(path);
    const number = BigInt(block.block_header.raw_data.number ?? 0);
    return {
      number,
      ref_block_bytes: (number & 0xffffn).toString(16).padStart(4, '0'),
      ref_block_hash: block.blockID.slice(16, 32),
      timestamp: block.block_header.raw_data.timestamp,
    };
  }

  async headNumber(): Promise<bigint> {
    const block = await this.call<{ block_header: { raw_data: { number?: number } } }>('/wallet/getnowblock');
    return BigInt(block.block_header.raw_data.number ?? 0);
  }

  /** The TRX the address holds, sun (its staked TRX not included). */
  async nativeBalance(address: string): Promise<bigint> {
    const account = await this.call<{ balance?: number }>('/wallet/getaccount', { address, visible: true });
    return BigInt(account.balance ?? 0);
  }

  /**
   * All the TRX the address owns, sun: its balance, its stake (delegated to others or not) and what
   * it is unstaking. Staking moves TRX out of `balance` without it leaving the owner.
   */
  async ownedTrx(address: string): Promise<bigint> {
    const account = await this.call<{
      balance?: number;
      frozenV2?: Array<{ amount?: number }>;
      unfrozenV2?: Array<{ unfreeze_amount?: number }>;
      delegated_frozenV2_balance_for_bandwidth?: number;
      account_resource?: { delegated_frozenV2_balance_for_energy?: number };
    }>('/wallet/getaccount', { address, visible: true });
    const sum = (values: Array<number | undefined>) => values.reduce<bigint>((total, value) => total + BigInt(value ?? 0), 0n);
    return sum([
      account.balance,
      ...(account.frozenV2 ?? []).map((entry) => entry.amount),
      ...(account.unfrozenV2 ?? []).map((entry) => entry.unfreeze_amount),
      account.delegated_frozenV2_balance_for_bandwidth,
      account.account_resource?.delegated_frozenV2_balance_for_energy,
    ]);
  }

  /** Whether the account exists: a transfer of TRX to one that does not pays to create it (1.1 TRX). */
  async accountExists(address: string): Promise<boolean> {
    const account = await this.call<{ address?: string; create_time?: number }>('/wallet/getaccount', { address, visible: true });
    return account.address !== undefined || account.create_time !== undefined;
  }

  /** The solidified block's timestamp: a transaction expired before it and not in the chain can never be mined. */
  async solidifiedTimestamp(): Promise<number> {
    const block = await this.call<{ block_header: { raw_data: { timestamp: number } } }>('/walletsolidity/getnowblock');
    return block.block_header.raw_data.timestamp;
  }

  /** How much of the address's stake for energy it may delegate now, sun (what its own use of energy holds back is not). */
  async delegatableEnergyStake(address: string): Promise<bigint> {
    const answer = await this.call<{ max_size?: number }>('/wallet/getcandelegatedmaxsize', { owner_address: address, type: 1, visible: true });
    return BigInt(answer.max_size ?? 0);
  }

  /**
   * The stake (sun, whole TRX, at least 1 TRX as java-tron requires) whose delegation by
   * `delegator` gives `energy`: a staked TRX gives TotalEnergyLimit / TotalEnergyWeight energy a day.
   */
  async stakeForEnergy(delegator: string, energy: bigint): Promise<bigint> {
    const totals = await this.call<{ TotalEnergyLimit?: number; TotalEnergyWeight?: number }>('/wallet/getaccountresource', {
      address: delegator,
      visible: true,
    });
    const limit = BigInt(totals.TotalEnergyLimit ?? 0);
    const weight = BigInt(totals.TotalEnergyWeight ?? 0);
    if (limit === 0n || weight === 0n) throw new Error('getaccountresource has no TotalEnergyLimit or TotalEnergyWeight');
    const trx = (energy * weight + limit - 1n) / limit;
    return (trx > 1n ? trx : 1n) * 1_000_000n;
  }

  async tokenBalance(token: string, address: string): Promise<bigint> {
    const answer = await this.call<{ constant_result?: string[] }>('/wallet/triggerconstantcontract', {
      owner_address: address,
      contract_address: token,
      function_selector: 'balanceOf(address)',
      parameter: addressWord(address),
      visible: true,
    });
    const [word] = answer.constant_result ?? [];
    if (word === undefined) throw new Error(`balanceOf(${address}) on ${token} answered nothing`);
    return BigInt(`0x${word || '0'}`);
  }

  async resources(address: string): Promise<TronResources> {
    const resources = await this.call<Record<string, number | undefined>>('/wallet/getaccountresource', { address, visible: true });
    const left = (limit: string, used: string) => BigInt(Math.max(0, (resources[limit] ?? 0) - (resources[used] ?? 0)));
    return { energy: left('EnergyLimit', 'EnergyUsed'), bandwidth: left('freeNetLimit', 'freeNetUsed') + left('NetLimit', 'NetUsed') };
  }

  /** The energy a TRC-20 `transfer(to, amount)` from `from` takes now (about 64 k to a holder of the token, 130 k to a new one). */
  async transferEnergy(token: string, from: string, to: string, amount: bigint): Promise<bigint> {
    const answer = await this.call<{ energy_used?: number; result?: { result?: boolean; message?: string } }>('/wallet/triggerconstantcontract', {
      owner_address: from,
      contract_address: token,
      function_selector: 'transfer(address,uint256)',
      parameter: tronTransferParameter(to, amount),
      visible: true,
    });
    if (answer.result?.result === false || answer.energy_used === undefined)
      throw new Error(`estimating transfer(${to}, ${amount}) on ${token} failed: ${answer.result?.message ?? 'no energy_used'}`);
    return BigInt(answer.energy_used);
  }

  /**
   * The chain's prices, sun: per unit of energy burned, per byte of bandwidth burned, and to create
   * an account with a transfer of TRX (its bandwidth burned and the system contract's fee); and the
   * free bandwidth every account has a day, bytes.
   */
  async prices(): Promise<{ energy: bigint; bandwidth: bigint; createAccount: bigint; freeBandwidth: bigint }> {
    const { chainParameter } = await this.call<{ chainParameter: Array<{ key: string; value?: number }> }>('/wallet/getchainparameters');
    const value = (key: string) => {
      const found = chainParameter.find((parameter) => parameter.key === key)?.value;
      if (found === undefined) throw new Error(`getchainparameters has no ${key}`);
      return BigInt(found);
    };
    return {
      energy: value('getEnergyFee'),
      bandwidth: value('getTransactionFee'),
      createAccount: value('getCreateAccountFee') + value('getCreateNewAccountFeeInSystemContract'),
      freeBandwidth: value('getFreeNetLimit'),
    };
  }

  /** Broadcasts signed bytes to every node; the same transaction sent again is not an error. */
  async send(transaction: SignedTronTransaction): Promise<string> {
    return this.pool.all(
      async (url) => {
        const answer = await this.post<{ result?: boolean; code?: string; message?: string }>(url, '/wallet/broadcasttransaction', transaction);
        if (answer.result === true || answer.code === 'DUP_TRANSACTION_ERROR') return transaction.txID;
        throw new TronBroadcastError(answer.code ?? 'UNKNOWN', readMessage(answer.message));
      },
      (error) => error instanceof TronBroadcastError,
    );
  }

  /** The transaction's outcome once it is in a block; undefined before. */
  async receipt(txID: string): Promise<TronReceipt | undefined> {
    const info = await this.call<{
      blockNumber?: number;
      fee?: number;
      result?: string;
      receipt?: { result?: string; energy_usage_total?: number; energy_fee?: number; net_fee?: number };
    }>('/wallet/gettransactioninfobyid', { value: txID });
    if (info.blockNumber === undefined) return undefined;
    // A contract call's receipt says SUCCESS or why it failed; a transfer of TRX has no result, and failed only when `result` is FAILED.
    const failed = info.result === 'FAILED' || (info.receipt?.result !== undefined && info.receipt.result !== 'SUCCESS');
    return {
      blockNumber: BigInt(info.blockNumber),
      status: failed ? 'reverted' : 'succeeded',
      fee: BigInt(info.fee ?? 0),
      energyUsed: BigInt(info.receipt?.energy_usage_total ?? 0),
      energyFee: BigInt(info.receipt?.energy_fee ?? 0),
      bandwidthFee: BigInt(info.receipt?.net_fee ?? 0),
    };
  }
}

/**
 * A transaction of one contract referencing `reference`, expiring `expirationMs` after it
 * (TRON_EXPIRATION_MS unless given), stamped `now`. Pure: the same inputs make the same bytes.
 */
export function buildTronTransaction(
  contract: TronContract,
  reference: TronReferenceBlock,
  options: { feeLimit?: bigint; now: number; expirationMs?: number },
): TronRawData {
  return {
    contract,
    ref_block_bytes: reference.ref_block_bytes,
    ref_block_hash: reference.ref_block_hash,
    expiration: reference.timestamp + (options.expirationMs ?? TRON_EXPIRATION_MS),
    timestamp: options.now,
    fee_limit: Number(options.feeLimit ?? 0n),
  };
}

/** A TRC-20 `transfer(to, amount)` from `from` on `token`, as a TriggerSmartContract. */
export function tronTokenTransfer(token: string, from: string, to: string, amount: bigint): TronContract {
  return {
    type: 'TriggerSmartContract',
    owner_address: hex41(from),
    contract_address: hex41(token),
    call_value: 0n,
    data: `a9059cbb${tronTransferParameter(to, amount)}`,
  };
}

export function hex41(address: string): string {
  const hex = tronAddressToHex(address);
  if (!hex) throw new TronTransactionError(`${address} is not a Tron address`);
  return hex;
}

function addressWord(address: string): string {
  return hex41(address).slice(2).padStart(64, '0');
}

function tronTransferParameter(to: string, amount: bigint): string {
  return addressWord(to) + amount.toString(16).padStart(64, '0');
}

/** java-tron writes a refusal's message as hex of its text. */
function readMessage(message: string | undefined): string {
  if (!message) return 'no message';
  return /^[0-9a-f]+$/i.test(message) && message.length % 2 === 0 ? Buffer.from(message, 'hex').toString('utf8') : message;
}
