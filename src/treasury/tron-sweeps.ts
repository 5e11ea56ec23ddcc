/**
 * Tron sweeps (docs/treasury.md#tron-sweeps): the steps of sweeps.service.ts on Tron, where a
 * transaction has no nonce and a token transfer needs energy and bandwidth instead of gas.
 *
 * - prepare: what to move (at most what the ledger says the address holds); TRX pays its own
 *   bandwidth (and the treasury's creation when it has no account yet) out of what it moves; a
 *   token transfer's energy is lent from the gas wallet's stake when it can delegate enough
 *   (`energy_source` delegation), else burned from TRX topped up (burn). Decided once, recorded.
 * - send: each transaction (a top-up, a delegation, the transfer, the reclaim) is built here from
 *   the codec against a recent block and recorded, expiration included, before the signer is asked;
 *   the signed bytes are recorded before they are broadcast. A retry signs the same request or
 *   re-sends the same bytes: `DUP_TRANSACTION_ERROR` is success.
 * - confirm: once the transaction is the network's confirmations deep, what it moved and cost (its
 *   receipt's burned TRX) is booked once. One that is in no block when the solidified chain has
 *   passed its expiration can never be mined: the same contract is built again against a new
 *   block, the version it replaces kept, and asked for under a new request id.
 */
import { decodeRawData, encodeRawData, type TronContract } from '../chains/tron/transaction';
import { modeOf } from '../domain/mode';
import { SignerRefusedError, type TronSignRequest } from './signer-client';
import {
  bookFinal,
  isNative,
  ledgerHolding,
  notConfigured,
  requireChain,
  requireSigner,
  tokenOf,
  walletsOf,
  type Confirmation,
  type SentRef,
  type SweepPlan,
  type TreasuryDeps,
  type TronTreasury,
} from './sweep-context';
import {
  dropReplacementRequest,
  recordReplacementRequest,
  recordTronSentTransaction,
  replacedVersionsOf,
  replaceSentVersion,
  sentTransactionOf,
  updateSweep,
} from './sweeps.repository';
import type { SweepPurpose, SentTransaction, Sweep } from './treasury.table';
import { buildTronTransaction, hex41, tronTokenTransfer, type TronTreasuryChain } from './tron-chain';
import { broadcastTron, signAndBroadcastTron } from './tron-sending';

/** Bandwidth a transaction takes (its bytes, one signature, 64 for its result), with room: a TRX transfer is about 270, a TRC-20 transfer about 345. */
const TRX_TRANSFER_BYTES = 300n;
const TOKEN_TRANSFER_BYTES = 400n;
/** Energy over the node's estimate, percent: the transfer's cost may move a little before it is mined. */
const ENERGY_MARGIN_PERCENT = 10n;
/**
 * TRX sent to a deposit address that holds only tokens, when nothing else is needed there: tokens
 * alone do not create an account on Tron, and an address without one can neither send nor be lent
 * energy. Sending it any TRX creates it; the gas wallet pays the creation fee.
 */
const ACTIVATION_SUN = 1n;

const min = (a: bigint, b: bigint) => (a < b ? a : b);
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

function requireTron(deps: TreasuryDeps, sweep: Pick<Sweep, 'livemode' | 'network'>): TronTreasury {
  const config = requireChain(deps, sweep.livemode, sweep.network);
  if (config.family !== 'tron') throw notConfigured(`${sweep.network} is not a Tron network`);
  return config;
}

/** What a token transfer from the sweep's address needs now, and what the address has towards it. */
interface TransferNeeds {
  /** The energy the call takes, with the margin: its fee_limit covers all of it. */
  energy: bigint;
  /** Of it, what the address's own (or lent) energy does not cover. */
  missingEnergy: bigint;
  /** TRX burned for the transfer's bandwidth when the address's free and staked bandwidth do not cover it. */
  bandwidthBurn: bigint;
  exists: boolean;
  balance: bigint;
  energyPrice: bigint;
}

async function transferNeeds(config: TronTreasury, sweep: Sweep, amount: bigint): Promise<TransferNeeds> {
  const { chain } = config;
  const [estimate, exists, prices] = await Promise.all([
    chain.transferEnergy(tokenOf(config, sweep), sweep.address, sweep.treasury, amount),
    chain.accountExists(sweep.address),
    chain.prices(),
  ]);
  const energy = (estimate * (100n + ENERGY_MARGIN_PERCENT)) / 100n;
  // An address without an account yet has the free daily bandwidth once it is created, and no energy.
  const resources = exists ? await chain.resources(sweep.address) : { energy: 0n, bandwidth: prices.freeBandwidth };
  return {
    energy,
    missingEnergy: energy > resources.energy ? energy - resources.energy : 0n,
    bandwidthBurn: resources.bandwidth >= TOKEN_TRANSFER_BYTES ? 0n : TOKEN_TRANSFER_BYTES * prices.bandwidth,
    exists,
    balance: exists ? await chain.nativeBalance(sweep.address) : 0n,
    energyPrice: prices.energy,
  };
}

/** TRX the address lacks for its transfer: the energy it burns (none when lent) and its bandwidth, less what it holds; at least what creates its account. */
function topUpOf(needs: TransferNeeds, energyLent: boolean): bigint {
  const burn = (energyLent ? 0n : needs.missingEnergy * needs.energyPrice) + needs.bandwidthBurn;
  const lacking = burn - needs.balance;
  if (!needs.exists) return lacking > ACTIVATION_SUN ? lacking : ACTIVATION_SUN;
  return lacking > 0n ? lacking : 0n;
}

/** Step 2 on Tron: what to move, and how its energy is paid. An amount and an energy source once recorded are kept. */
export async function prepareTronSweep(deps: TreasuryDeps, sweep: Sweep): Promise<SweepPlan> {
  const config = requireTron(deps, sweep);
  const { chain } = config;
  if (sweep.amount !== null) {
    const action = sweep.energy_source === 'delegation' ? 'delegate' : sweep.status === 'topping_up' ? 'top_up' : 'send';
    return { action, amount: sweep.amount };
  }
  const held = await ledgerHolding(deps, sweep);
  const native = isNative(sweep);
  const onChain = native ? await chain.nativeBalance(sweep.address) : await chain.tokenBalance(tokenOf(config, sweep), sweep.address);
  let amount = min(onChain, held);
  if (native && amount > 0n) {
    // TRX pays its own bandwidth, and the treasury's creation if it has no account yet, out of what it moves.
    const [resources, prices, treasuryExists] = await Promise.all([chain.resources(sweep.address), chain.prices(), chain.accountExists(sweep.treasury)]);
    amount -= (resources.bandwidth >= TRX_TRANSFER_BYTES ? 0n : TRX_TRANSFER_BYTES * prices.bandwidth) + (treasuryExists ? 0n : prices.createAccount);
  }
  if (amount <= 0n) {
    await updateSweep(deps.db, sweep.id, { status: 'skipped', failure_reason: 'nothing worth its fees to move', completed_at: new Date() });
    return { action: 'skip', reason: 'nothing worth its fees to move' };
  }
  if (native) {
    await updateSweep(deps.db, sweep.id, { amount, status: 'sending' });
    return { action: 'send', amount: amount.toString() };
  }
  const needs = await transferNeeds(config, sweep, amount);
  let energySource: 'delegation' | 'burn' | null = null;
  if (needs.missingEnergy > 0n) {
    const { gasWallet } = await walletsOf(deps, sweep.livemode, sweep.network);
    const delegatable = await chain.delegatableEnergyStake(gasWallet);
    energySource = delegatable > 0n && delegatable >= (await chain.stakeForEnergy(gasWallet, needs.missingEnergy)) ? 'delegation' : 'burn';
  }
  const action = energySource === 'delegation' ? 'delegate' : topUpOf(needs, false) > 0n ? 'top_up' : 'send';
  await updateSweep(deps.db, sweep.id, { amount, energy_source: energySource, status: action === 'send' ? 'sending' : 'topping_up' });
  return { action, amount: amount.toString() };
}

/** Step 3 on Tron: the sweep's transaction of this purpose, built and recorded once, signed once, broadcast (again) from the recorded bytes. */
export async function sendTronSweepTransaction(deps: TreasuryDeps, sweep: Sweep, purpose: SweepPurpose): Promise<SentRef> {
  const config = requireTron(deps, sweep);
  if (purpose === 'sweep' && sweep.status === 'topping_up') await updateSweep(deps.db, sweep.id, { status: 'sending' });
  const recorded = (await sentTransactionOf(deps.db, sweep.id, purpose)) ?? (await buildAndRecord(deps, config, sweep, purpose));
  // Nothing to send: the address has what a top-up or a delegation would give, or no delegation was made to reclaim.
  if (!recorded) return { sentId: null, hash: null };
  const sent = await signAndBroadcastTron(deps, config.chain, recorded, sweep.workflow_id);
  return { sentId: sent.id, hash: sent.hash! };
}

/** The transaction of `purpose`, built against the head and recorded; undefined when none is needed. */
async function buildAndRecord(deps: TreasuryDeps, config: TronTreasury, sweep: Sweep, purpose: SweepPurpose): Promise<SentTransaction | undefined> {
  const { chain } = config;
  const { gasWallet } = await walletsOf(deps, sweep.livemode, sweep.network);
  const amount = BigInt(sweep.amount!);
  const destination = { branch: sweep.address_branch, index: sweep.address_index };
  const gas = { from: { wallet: 'gas' as const }, destination };
  let contract: TronContract;
  let signing: Pick<TronSignRequest, 'kind' | 'from' | 'destination'>;
  let feeLimit = 0n;
  if (purpose === 'gas_topup') {
    const value = topUpOf(await transferNeeds(config, sweep, amount), sweep.energy_source === 'delegation');
    if (value <= 0n) return undefined;
    contract = { type: 'TransferContract', owner_address: hex41(gasWallet), to_address: hex41(sweep.address), amount: value };
    signing = { kind: 'gas_topup', ...gas };
  } else if (purpose === 'energy_delegation') {
    const { missingEnergy } = await transferNeeds(config, sweep, amount);
    if (missingEnergy === 0n) return undefined;
    const balance = await chain.stakeForEnergy(gasWallet, missingEnergy);
    contract = {
      type: 'DelegateResourceContract',
      owner_address: hex41(gasWallet),
      resource: 'ENERGY',
      balance,
      receiver_address: hex41(sweep.address),
      // Not locked: it is taken back as soon as the transfer is final.
      lock: false,
      lock_period: 0,
    };
    signing = { kind: 'energy_delegation', ...gas };
  } else if (purpose === 'energy_reclaim') {
    const delegation = await sentTransactionOf(deps.db, sweep.id, 'energy_delegation');
    if (delegation?.status !== 'confirmed') return undefined;
    const lent = decodeRawData(String(delegation.request.raw_data_hex)).contract;
    if (lent.type !== 'DelegateResourceContract') throw new Error(`${delegation.id} is not a delegation`);
    contract = {
      type: 'UnDelegateResourceContract',
      owner_address: lent.owner_address,
      resource: 'ENERGY',
      balance: lent.balance,
      receiver_address: lent.receiver_address,
    };
    signing = { kind: 'energy_reclaim', ...gas };
  } else if (isNative(sweep)) {
    contract = { type: 'TransferContract', owner_address: hex41(sweep.address), to_address: hex41(sweep.treasury), amount };
    signing = { kind: 'sweep', from: { wallet: 'deposit', ...destination } };
  } else {
    const needs = await transferNeeds(config, sweep, amount);
    // fee_limit bounds all the energy the call may use, lent or burned: it covers the whole estimate.
    feeLimit = needs.energy * needs.energyPrice;
    contract = tronTokenTransfer(tokenOf(config, sweep), sweep.address, sweep.treasury, amount);
    signing = { kind: 'sweep', from: { wallet: 'deposit', ...destination } };
  }
  const raw = buildTronTransaction(contract, await chain.referenceBlock(), { feeLimit, now: Date.now() });
  const what = { gas_topup: 'TRX for', energy_delegation: 'energy lent to', energy_reclaim: 'energy taken back from', sweep: 'move' }[purpose];
  return recordTronSentTransaction(
    deps.db,
    {
      sweepId: sweep.id,
      purpose,
      livemode: sweep.livemode,
      network: sweep.network,
      from: signing.from.wallet === 'gas' ? gasWallet : sweep.address,
      to: purpose === 'sweep' ? (isNative(sweep) ? sweep.treasury : tokenOf(config, sweep)) : sweep.address,
      expiresAt: new Date(raw.expiration),
    },
    {
      reason: `sweep ${sweep.id}: ${what} ${sweep.currency} at ${sweep.address}`,
      mode: modeOf(sweep.livemode),
      network: 'tron',
      ...signing,
      raw_data_hex: hex(encodeRawData(raw)),
    },
  );
}

/** Step 4 on Tron: whether the transaction is final; booked once when it is. An expired one is built again. */
export async function confirmTronSweepTransaction(deps: TreasuryDeps, sweep: Sweep, sent: SentTransaction): Promise<Confirmation> {
  const { chain, confirmations } = requireTron(deps, sweep);
  const versions = [{ hash: sent.hash!, request: sent.request }, ...(await replacedVersionsOf(deps.db, sent.id))];
  for (const version of versions) {
    const receipt = await chain.receipt(version.hash);
    if (!receipt) continue;
    const depth = Number((await chain.headNumber()) - receipt.blockNumber + 1n);
    if (depth < confirmations) return { state: 'waiting', confirmations: depth, required: confirmations };
    const { contract } = decodeRawData(String(version.request.raw_data_hex));
    const value = contract.type === 'TransferContract' ? contract.amount : 0n;
    return bookFinal(deps.db, sweep, sent, { status: receipt.status, blockNumber: receipt.blockNumber, fee: receipt.fee, gasUsed: receipt.energyUsed }, value);
  }
  // In no block. Past its expiration on the solidified chain, no block can ever take it: build it again.
  if (sent.expires_at && (await chain.solidifiedTimestamp()) > sent.expires_at.getTime())
    return { state: 'waiting', confirmations: 0, ...(await rebuild(deps, chain, sweep, sent)) };
  const refused = await broadcastTron(chain, sent);
  return { state: 'waiting', confirmations: 0, ...(refused && { stuck: refused }) };
}

/**
 * The same contract built against a new block, recorded before the signer is asked and kept with
 * the expired version (`treasury_sent_replaced`): a retry asks for the same bytes, and the expired
 * one stays known to the chain watcher.
 */
async function rebuild(
  deps: TreasuryDeps,
  chain: TronTreasuryChain,
  sweep: Sweep,
  sent: SentTransaction,
): Promise<{ replaced?: { hash: string; by: string }; stuck?: string }> {
  const head = await chain.headNumber();
  let pending = sent;
  if (!pending.replacement_request) {
    const expired = decodeRawData(String(sent.request.raw_data_hex));
    const raw = buildTronTransaction(expired.contract, await chain.referenceBlock(), { feeLimit: BigInt(expired.fee_limit), now: Date.now() });
    pending = await recordReplacementRequest(deps.db, sent.id, { ...sent.request, raw_data_hex: hex(encodeRawData(raw)) });
  }
  const request = pending.replacement_request as unknown as TronSignRequest;
  let signed;
  try {
    signed = await requireSigner(deps).sign({ ...request, request_id: `${sent.id}.v${sent.replacements + 1}`, workflow_id: sweep.workflow_id });
  } catch (error) {
    if (!(error instanceof SignerRefusedError)) throw error;
    await dropReplacementRequest(deps.db, sent.id, head);
    return { stuck: `the signer refused to sign it again: ${error.message}` };
  }
  const expiresAt = new Date(decodeRawData(request.raw_data_hex).expiration);
  const replaced = await replaceSentVersion(
    deps.db,
    pending,
    { signed_transaction: JSON.stringify(signed.signed_transaction), hash: signed.hash },
    head,
    expiresAt,
  );
  const refused = await broadcastTron(chain, replaced);
  return { replaced: { hash: sent.hash!, by: signed.hash }, ...(refused && { stuck: refused }) };
}
