/**
 * The Tron devnet stand-in's accounts (tron-devnet.ts): TRX and USDT balances, Stake 2.0 stakes
 * and delegations, and the bandwidth and energy each account has used, with the rules java-tron
 * charges a transaction by. A stand-in's model, not java-tron's code; what it leaves out is listed
 * in tron-devnet.ts's header.
 *
 * Bandwidth (BandwidthProcessor.consume): a transaction's size is its serialized `Transaction`
 * (raw_data and signatures) plus 64 bytes for its result. A TRX transfer that creates its
 * receiver's account takes it from staked bandwidth, else burns getCreateAccountFee (0.1 TRX),
 * and pays getCreateNewAccountFeeInSystemContract (1 TRX) besides. Any other transaction takes
 * staked (own and delegated) bandwidth first, then the account's free daily bandwidth
 * (getFreeNetLimit), else burns getTransactionFee sun a byte; an account that can pay none of
 * them is refused (BANDWITH_ERROR).
 *
 * Energy (VMActuator, EnergyProcessor): a contract call may use at most
 * min(staked energy left + TRX balance / getEnergyFee, fee_limit / getEnergyFee) energy. Staked
 * (own and delegated) energy is used first, the rest burned at getEnergyFee sun each; a call that
 * needs more than it may use fails OUT_OF_ENERGY, using (and burning for) all of it.
 *
 * Usage recovers linearly over 24 hours (ResourceProcessor.increase), by the blocks' timestamps.
 * A transaction's effects are computed once, when it is mined, and recorded with it (its
 * receipt), so the state is always the replay of the chain's blocks: a reorg replays the new
 * chain, a restart replays the saved one.
 */
import { tronAddressFromAccountId } from '../../src/chains/tron/address';
import type { TronContract, TronResource } from '../../src/chains/tron/transaction';

export const ENERGY_FEE = 210; // sun an energy (getEnergyFee)
export const TRANSACTION_FEE = 1_000; // sun a byte (getTransactionFee)
export const FREE_NET_LIMIT = 600; // bytes a day (getFreeNetLimit)
export const CREATE_ACCOUNT_FEE = 100_000; // getCreateAccountFee
export const CREATE_NEW_ACCOUNT_FEE_IN_SYSTEM_CONTRACT = 1_000_000;
export const MAX_FEE_LIMIT = 15_000_000_000; // getMaxFeeLimit
/** Fixed network totals, so a staked TRX gives 10 energy and 1 bandwidth a day (mainnet's are near these). */
export const TOTAL_ENERGY_LIMIT = 180_000_000_000;
export const TOTAL_ENERGY_WEIGHT = 18_000_000_000;
export const TOTAL_NET_LIMIT = 43_200_000_000;
export const TOTAL_NET_WEIGHT = 43_200_000_000;
const WINDOW_MS = 24 * 3600 * 1000;
/** A block is 3 s: delegation lock periods are counted in blocks. */
const BLOCK_MS = 3_000;
const DEFAULT_LOCK_PERIOD_BLOCKS = 86_400;
/** USDT's transfer(): as on mainnet, about 65k energy to an address that holds the token, about 130k to one that holds none. */
export const TRANSFER_ENERGY_TO_HOLDER = 64_285;
export const TRANSFER_ENERGY_TO_NEW_HOLDER = 130_285;
/** What a USDT call that reverts (too few tokens, an unknown function) uses. */
export const REVERT_ENERGY = 7_500;

export interface Account {
  /**
   * Whether the account exists on the chain. A TRC-20 transfer credits tokens to an address
   * without creating its account (as on Tron: the contract's storage holds the balance); only
   * TRX sent to it creates (activates) it. An inactive address is none to getaccount and cannot
   * send a transaction or receive a delegation.
   */
  active: boolean;
  trx: bigint;
  usdt: bigint;
  createTime: number;
  /** Staked (FreezeBalanceV2) and not delegated, by resource. */
  frozen: Record<TronResource, bigint>;
  delegatedOut: Record<TronResource, bigint>;
  acquired: Record<TronResource, bigint>;
  netUsage: number;
  netTime: number;
  freeNetUsage: number;
  freeNetTime: number;
  energyUsage: number;
  energyTime: number;
}

export interface Delegation {
  from: string;
  to: string;
  resource: TronResource;
  balance: bigint;
  /** Locked until (ms); 0 when not locked. */
  expireTime: number;
}

export interface ChainState {
  accounts: Map<string, Account>;
  delegations: Map<string, Delegation>;
}

/** What a mined transaction cost and did, as its transaction info tells it. Zeros are left out. */
export interface Receipt {
  /** Where its bandwidth came from. */
  net: 'stake' | 'free' | 'fee' | 'create-stake' | 'create-fee';
  netUsage: number;
  netFee: number;
  /** Energy from stake, and burned for. */
  energyUsage: number;
  energyFee: number;
  energyUsageTotal: number;
  /** Besides bandwidth and energy: the 1 TRX for a new account. */
  otherFee: number;
  fee: number;
  /** For contract calls. */
  result?: 'SUCCESS' | 'REVERT' | 'OUT_OF_ENERGY';
  /** A USDT transfer that succeeded: what it moved. */
  usdtPaid?: string;
}

export const resourceKey = (from: string, to: string, resource: TronResource) => `${from}:${to}:${resource}`;
const zero = (): Record<TronResource, bigint> => ({ BANDWIDTH: 0n, ENERGY: 0n });

export function newAccount(createTime: number, trx = 0n, active = true): Account {
  return {
    active,
    trx,
    usdt: 0n,
    createTime,
    frozen: zero(),
    delegatedOut: zero(),
    acquired: zero(),
    netUsage: 0,
    netTime: 0,
    freeNetUsage: 0,
    freeNetTime: 0,
    energyUsage: 0,
    energyTime: 0,
  };
}

export function cloneState(state: ChainState): ChainState {
  const accounts = new Map<string, Account>();
  for (const [address, account] of state.accounts)
    accounts.set(address, { ...account, frozen: { ...account.frozen }, delegatedOut: { ...account.delegatedOut }, acquired: { ...account.acquired } });
  return { accounts, delegations: new Map([...state.delegations].map(([key, value]) => [key, { ...value }])) };
}

/** The account at `address` if it exists on the chain (an address holding only tokens does not). */
export function activeAccount(state: ChainState, address: string): Account | undefined {
  const account = state.accounts.get(address);
  return account?.active ? account : undefined;
}

/** Usage left after recovery: linear over 24 hours (java-tron's ResourceProcessor.increase, in ms). */
export function recovered(usage: number, lastTime: number, now: number): number {
  if (usage <= 0 || now - lastTime >= WINDOW_MS) return 0;
  if (now <= lastTime) return usage;
  return Math.round((usage * (WINDOW_MS - (now - lastTime))) / WINDOW_MS);
}

const sunToTrx = (sun: bigint) => Number(sun / 1_000_000n);
export const energyLimit = (account: Account) =>
  Math.floor((sunToTrx(account.frozen.ENERGY + account.acquired.ENERGY) * TOTAL_ENERGY_LIMIT) / TOTAL_ENERGY_WEIGHT);
export const netLimit = (account: Account) =>
  Math.floor((sunToTrx(account.frozen.BANDWIDTH + account.acquired.BANDWIDTH) * TOTAL_NET_LIMIT) / TOTAL_NET_WEIGHT);
export const energyLeft = (account: Account, now: number) => Math.max(0, energyLimit(account) - recovered(account.energyUsage, account.energyTime, now));

/** A refusal with java-tron's broadcast code (GrpcAPI.Return.response_code) and message. */
export class Refusal extends Error {
  constructor(
    readonly code:
      'SIGERROR' | 'BANDWITH_ERROR' | 'DUP_TRANSACTION_ERROR' | 'TAPOS_ERROR' | 'TRANSACTION_EXPIRATION_ERROR' | 'CONTRACT_VALIDATE_ERROR' | 'OTHER_ERROR',
    message: string,
  ) {
    super(message);
  }
}
/** java-tron's ContractValidateException, answered as CONTRACT_VALIDATE_ERROR "Contract validate error : …". */
export const invalid = (message: string) => new Refusal('CONTRACT_VALIDATE_ERROR', message);

export const base58 = (hex41: string) => tronAddressFromAccountId(Buffer.from(hex41.slice(2), 'hex'));

/** The USDT transfer(address,uint256) a call's data asks for, or undefined when it is another call. */
export function usdtTransferOf(data: string): { to: string; amount: bigint } | undefined {
  if (!/^a9059cbb[0-9a-f]{128}$/.test(data)) return undefined;
  return { to: `41${data.slice(8 + 24, 8 + 64)}`, amount: BigInt(`0x${data.slice(8 + 64)}`) };
}

/** What a call to the devnet's USDT would use and do, before any limit: the energy of triggerconstantcontract's estimate. */
export function usdtCall(state: ChainState, owner: string, data: string, callValue: bigint): { energy: number; transfer?: { to: string; amount: bigint } } {
  const transfer = usdtTransferOf(data);
  const sender = state.accounts.get(owner);
  if (!transfer || callValue > 0n || !sender || sender.usdt < transfer.amount) return { energy: REVERT_ENERGY };
  const holds = (state.accounts.get(transfer.to)?.usdt ?? 0n) > 0n && transfer.to !== owner;
  return { energy: holds ? TRANSFER_ENERGY_TO_HOLDER : TRANSFER_ENERGY_TO_NEW_HOLDER, transfer };
}

/** The part of a stake that is in use (its used resource as staked TRX), which cannot be delegated. */
export function stakeInUse(account: Account, resource: TronResource, now: number): bigint {
  const usage = resource === 'ENERGY' ? recovered(account.energyUsage, account.energyTime, now) : recovered(account.netUsage, account.netTime, now);
  const [weight, limit] = resource === 'ENERGY' ? [TOTAL_ENERGY_WEIGHT, TOTAL_ENERGY_LIMIT] : [TOTAL_NET_WEIGHT, TOTAL_NET_LIMIT];
  return BigInt(Math.ceil((usage * weight) / limit)) * 1_000_000n;
}

/**
 * Runs a signed transaction against `state` as java-tron would when it is pushed or mined: the
 * bandwidth first, then the contract's validation, then (a contract call) the energy. Throws a
 * Refusal, leaving `state` as it was, when java-tron would refuse it; otherwise applies it and
 * returns its receipt. `force` is /devnet/resend's: a USDT call that reverts, or pays less.
 */
export function execute(
  state: ChainState,
  contract: TronContract,
  feeLimit: number,
  bytesSize: number,
  now: number,
  usdtContract: string,
  force: { fail?: boolean; paid?: string } = {},
  options: { chargeBandwidth?: boolean } = {},
): Receipt {
  const owner = activeAccount(state, contract.owner_address);
  if (!owner) throw invalid('account does not exist');
  const receipt: Receipt = { net: 'stake', netUsage: 0, netFee: 0, energyUsage: 0, energyFee: 0, energyUsageTotal: 0, otherFee: 0, fee: 0 };
  // Bandwidth (BandwidthProcessor.consume).
  const createsAccount = contract.type === 'TransferContract' && !activeAccount(state, contract.to_address);
  const netLeft = netLimit(owner) - recovered(owner.netUsage, owner.netTime, now);
  if (options.chargeBandwidth === false) {
    // Validation only (createtransaction and the like): bandwidth is charged when the transaction is pushed.
  } else if (createsAccount) {
    if (bytesSize <= netLeft) Object.assign(receipt, { net: 'create-stake', netUsage: bytesSize });
    else if (owner.trx >= BigInt(CREATE_ACCOUNT_FEE)) Object.assign(receipt, { net: 'create-fee', netFee: CREATE_ACCOUNT_FEE });
    else throw new Refusal('BANDWITH_ERROR', 'Account resource insufficient error.');
  } else if (bytesSize <= netLeft) {
    Object.assign(receipt, { net: 'stake', netUsage: bytesSize });
  } else if (bytesSize <= FREE_NET_LIMIT - recovered(owner.freeNetUsage, owner.freeNetTime, now)) {
    Object.assign(receipt, { net: 'free', netUsage: bytesSize });
  } else if (owner.trx >= BigInt(bytesSize * TRANSACTION_FEE)) {
    Object.assign(receipt, { net: 'fee', netFee: bytesSize * TRANSACTION_FEE });
  } else {
    throw new Refusal('BANDWITH_ERROR', 'Account resource insufficient error.');
  }
  const available = owner.trx - BigInt(receipt.netFee);
  // The contract (the actuators' validate(), then the VM for a call).
  switch (contract.type) {
    case 'TransferContract': {
      if (contract.amount <= 0n) throw invalid('Amount must be greater than 0.');
      if (contract.to_address === contract.owner_address) throw invalid('Cannot transfer TRX to yourself.');
      receipt.otherFee = createsAccount ? CREATE_NEW_ACCOUNT_FEE_IN_SYSTEM_CONTRACT : 0;
      if (available < contract.amount + BigInt(receipt.otherFee)) throw invalid('Validate TransferContract error, balance is not sufficient.');
      break;
    }
    case 'TriggerSmartContract': {
      if (contract.contract_address !== usdtContract) throw invalid('No contract or not a smart contract');
      if (feeLimit < 0 || feeLimit > MAX_FEE_LIMIT) throw invalid(`feeLimit must be >= 0 and <= ${MAX_FEE_LIMIT}`);
      if (contract.call_value > available) throw invalid('Validate InternalTransfer error, balance is not sufficient.');
      const call = usdtCall(state, contract.owner_address, contract.data, contract.call_value);
      const left = energyLeft(owner, now);
      const limit = Math.min(left + Number((available - contract.call_value) / BigInt(ENERGY_FEE)), Math.floor(feeLimit / ENERGY_FEE));
      const failed = force.fail === true || !call.transfer;
      const used = Math.min(call.energy, limit);
      receipt.result = call.energy > limit ? 'OUT_OF_ENERGY' : failed ? 'REVERT' : 'SUCCESS';
      receipt.energyUsageTotal = used;
      receipt.energyUsage = Math.min(left, used);
      receipt.energyFee = (used - receipt.energyUsage) * ENERGY_FEE;
      if (receipt.result === 'SUCCESS') receipt.usdtPaid = (force.paid !== undefined ? BigInt(force.paid) : call.transfer!.amount).toString();
      break;
    }
    case 'FreezeBalanceV2Contract': {
      if (contract.frozen_balance < 1_000_000n) throw invalid('frozenBalance must be greater than or equal to 1 TRX');
      if (contract.frozen_balance > available) throw invalid('frozenBalance must be less than or equal to accountBalance');
      break;
    }
    case 'DelegateResourceContract': {
      if (contract.balance < 1_000_000n) throw invalid('delegateBalance must be greater than or equal to 1 TRX');
      if (contract.receiver_address === contract.owner_address) throw invalid('receiverAddress must not be the same as ownerAddress');
      if (!activeAccount(state, contract.receiver_address)) throw invalid(`Account[${contract.receiver_address}] not exists`);
      const delegatable = owner.frozen[contract.resource] - stakeInUse(owner, contract.resource, now);
      if (contract.balance > delegatable)
        throw invalid(`delegateBalance must be less than or equal to available Freeze${contract.resource === 'ENERGY' ? 'Energy' : 'Bandwidth'}V2 balance`);
      break;
    }
    case 'UnDelegateResourceContract': {
      if (contract.balance <= 0n) throw invalid('unDelegateBalance must be more than 0 TRX');
      const delegation = state.delegations.get(resourceKey(contract.owner_address, contract.receiver_address, contract.resource));
      if (!delegation) throw invalid('delegated Resource does not exist');
      const unlocked = delegation.expireTime <= now ? delegation.balance : 0n;
      if (contract.balance > unlocked)
        throw invalid(
          `insufficient delegatedFrozenBalance(${contract.resource === 'ENERGY' ? 'Energy' : 'Bandwidth'}), request=${contract.balance}, unlock_balance=${unlocked}`,
        );
      break;
    }
  }
  receipt.fee = receipt.netFee + receipt.energyFee + receipt.otherFee;
  applyReceipt(state, contract, receipt, now);
  return receipt;
}

/** A mined transaction's effects on the accounts, from its contract and receipt alone (so a replay gives the same state). */
export function applyReceipt(state: ChainState, contract: TronContract, receipt: Receipt, now: number): void {
  /** The account at `address`; `activate`: TRX arriving creates it, tokens alone do not. */
  const account = (address: string, activate = true) => {
    let found = state.accounts.get(address);
    if (!found) state.accounts.set(address, (found = newAccount(now, 0n, activate)));
    else if (activate && !found.active) Object.assign(found, { active: true, createTime: now });
    return found;
  };
  const owner = account(contract.owner_address);
  if (receipt.net === 'stake' || receipt.net === 'create-stake') {
    owner.netUsage = recovered(owner.netUsage, owner.netTime, now) + receipt.netUsage;
    owner.netTime = now;
  } else if (receipt.net === 'free') {
    owner.freeNetUsage = recovered(owner.freeNetUsage, owner.freeNetTime, now) + receipt.netUsage;
    owner.freeNetTime = now;
  }
  if (receipt.energyUsage > 0) {
    owner.energyUsage = recovered(owner.energyUsage, owner.energyTime, now) + receipt.energyUsage;
    owner.energyTime = now;
  }
  owner.trx -= BigInt(receipt.fee);
  switch (contract.type) {
    case 'TransferContract':
      owner.trx -= contract.amount;
      account(contract.to_address).trx += contract.amount;
      break;
    case 'TriggerSmartContract': {
      const transfer = usdtTransferOf(contract.data);
      if (receipt.result === 'SUCCESS' && transfer && receipt.usdtPaid) {
        owner.usdt -= BigInt(receipt.usdtPaid);
        account(transfer.to, false).usdt += BigInt(receipt.usdtPaid);
      }
      break;
    }
    case 'FreezeBalanceV2Contract':
      owner.trx -= contract.frozen_balance;
      owner.frozen[contract.resource] += contract.frozen_balance;
      break;
    case 'DelegateResourceContract': {
      owner.frozen[contract.resource] -= contract.balance;
      owner.delegatedOut[contract.resource] += contract.balance;
      account(contract.receiver_address).acquired[contract.resource] += contract.balance;
      const key = resourceKey(contract.owner_address, contract.receiver_address, contract.resource);
      const delegation = state.delegations.get(key) ?? {
        from: contract.owner_address,
        to: contract.receiver_address,
        resource: contract.resource,
        balance: 0n,
        expireTime: 0,
      };
      delegation.balance += contract.balance;
      if (contract.lock) delegation.expireTime = Math.max(delegation.expireTime, now + (contract.lock_period || DEFAULT_LOCK_PERIOD_BLOCKS) * BLOCK_MS);
      state.delegations.set(key, delegation);
      break;
    }
    case 'UnDelegateResourceContract': {
      owner.frozen[contract.resource] += contract.balance;
      owner.delegatedOut[contract.resource] -= contract.balance;
      account(contract.receiver_address).acquired[contract.resource] -= contract.balance;
      const key = resourceKey(contract.owner_address, contract.receiver_address, contract.resource);
      const delegation = state.delegations.get(key)!;
      delegation.balance -= contract.balance;
      if (delegation.balance === 0n) state.delegations.delete(key);
      break;
    }
  }
}
