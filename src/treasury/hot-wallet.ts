/**
 * The hot wallet payouts are sent from (docs/payouts.md), whichever the network's family: which
 * address it is, what payouts already being sent from it will take, and whether it can cover one
 * more; a payout it cannot cover is `queued`, and the operator hears when a queue forms.
 *
 * The hot wallet is the treasury (the signer's m/44'/60'/2'/0/0 on EVM networks, m/44'/195'/2'/0/0
 * on Tron): sweeps fill it, payouts empty it, and one holdings account says what it holds.
 */
import { sql } from 'kysely';
import type { Executor } from '../db/database';
import { modeOf } from '../domain/mode';
import { networks, type Network } from '../domain/networks';
import { emitOperatorEvent } from '../events/emitter';
import { transitionPayout } from '../payouts/payouts.repository';
import type { Payout } from '../payouts/payouts.table';
import { notConfigured, requireSigner, type AnyTreasuryChain, type TreasuryDeps } from './sweep-context';

export const isNativePayout = (payout: Pick<Payout, 'network' | 'currency'>) => payout.currency === networks[payout.network as Network].nativeCurrency;

/**
 * The signer's hot wallet of the payout's network family, which must be the network's treasury,
 * or payouts would empty an address nothing refills and no holdings account follows.
 */
export async function hotWalletOf(deps: TreasuryDeps, livemode: boolean, network: string): Promise<string> {
  const mode = modeOf(livemode);
  const health = await requireSigner(deps).health();
  const tron = networks[network as Network]?.family === 'tron';
  const hot = tron ? health.tron_hot_wallets?.[mode] : health.hot_wallets?.[mode];
  const path = tron ? "m/44'/195'/2'/0/0" : "m/44'/60'/2'/0/0";
  const treasury = health.treasuries[mode]?.[network as Network];
  const variable = `INFLOW_TREASURY_${network.toUpperCase()}_${mode.toUpperCase()}`;
  if (!hot) throw notConfigured(`The signer has no ${mode}-mode ${tron ? 'Tron ' : ''}hot wallet (no ${mode}-mode key): no payout can be sent.`);
  if (!treasury) throw notConfigured(`The signer has no ${mode}-mode treasury for ${network} (${variable}).`);
  const same = tron ? hot === treasury : hot.toLowerCase() === treasury.toLowerCase();
  if (!same)
    throw notConfigured(
      `Payouts are sent from the signer's hot wallet ${hot} (${path}), which must be ${network}'s ${mode}-mode treasury, so that sweeps fill it; the treasury is ${treasury} (${variable}).`,
    );
  return hot;
}

/**
 * What a payout is sent with: the hot wallet, its amount in base units, and the token contract it
 * calls (none for the network's own coin; a token without a configured contract is a configuration
 * failure, not a reason to wait).
 */
export async function payoutSource(
  deps: TreasuryDeps,
  config: AnyTreasuryChain,
  payout: Payout,
): Promise<{ hotWallet: string; amount: bigint; native: boolean; token: string | undefined }> {
  const hotWallet = await hotWalletOf(deps, payout.livemode, payout.network);
  const native = isNativePayout(payout);
  const token = native ? undefined : config.tokens.find((candidate) => candidate.currency === payout.currency)?.address;
  if (!native && !token) throw notConfigured(`No ${payout.currency} contract is configured for ${payout.network} in ${modeOf(payout.livemode)} mode.`);
  return { hotWallet, amount: BigInt(payout.amount), native, token };
}

/** Takes the hot wallet's lock for the rest of the transaction: two payouts never both count the same coin. */
export async function lockHotWallet(transaction: Executor, payout: Pick<Payout, 'livemode' | 'network'>): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext('hot-wallet:' || ${modeOf(payout.livemode)} || ':' || ${payout.network}))`.execute(transaction);
}

/**
 * What payouts already being sent from the hot wallet will take of it (their amounts, and the most
 * their fees can cost: an EVM request's gas limit × max fee, a Tron request's `max_cost`): their
 * transactions may or may not be mined yet, so the chain's balance cannot say. One mined and not
 * yet completed is counted twice, which only makes a payout wait longer.
 */
export async function committedFrom(transaction: Executor, payout: Payout, hotWallet: string): Promise<{ native: bigint; currency: bigint }> {
  const nativeCurrency = networks[payout.network as Network].nativeCurrency;
  const { rows } = await sql<{ native: string; currency: string }>`
    select (coalesce(sum(case when p.currency = ${nativeCurrency} then p.amount else 0 end), 0)
            + coalesce(sum(coalesce((s.request->>'max_cost')::numeric,
                                    (s.request->'tx'->>'gas_limit')::numeric * (s.request->'tx'->>'max_fee_per_gas')::numeric)), 0))::text as native,
           coalesce(sum(case when p.currency = ${payout.currency} then p.amount else 0 end), 0)::text as currency
      from payouts p join treasury_transactions_sent s on s.payout_id = p.id
     where p.livemode = ${payout.livemode} and p.network = ${payout.network} and p.status in ('sending', 'broadcast')
       and s.from_address = ${hotWallet} and p.id <> ${payout.id}`.execute(transaction);
  return { native: BigInt(rows[0]!.native), currency: BigInt(rows[0]!.currency) };
}

/**
 * Why the hot wallet cannot cover the payout now, beyond what payouts already being sent from it take
 * (`committed`); undefined when it can. `cost`: the most the transaction's fee can be, in the native
 * coin (undefined: a token the wallet does not hold enough of, so no estimate).
 */
export function shortfall(
  payout: Payout,
  wallet: { address: string; coin: bigint; held: bigint },
  committed: { native: bigint; currency: bigint },
  cost: bigint | undefined,
): string | undefined {
  const amount = BigInt(payout.amount);
  const says = (what: string, has: bigint, taken: bigint, needs: bigint) =>
    `the hot wallet ${wallet.address} holds ${has} ${what}, of which payouts being sent take ${taken}; this payout needs ${needs}`;
  const nativeUnit = `${networks[payout.network as Network].nativeCurrency} base units`;
  if (isNativePayout(payout))
    return wallet.coin - committed.native < amount + cost! ? says(nativeUnit, wallet.coin, committed.native, amount + cost!) : undefined;
  if (cost === undefined || wallet.held - committed.currency < amount) return says(`${payout.currency} base units`, wallet.held, committed.currency, amount);
  if (wallet.coin - committed.native < cost) return says(`${nativeUnit} for its fee`, wallet.coin, committed.native, cost);
  return undefined;
}

/**
 * The payout waits (`queued`, with why); the payout that starts a queue (no other of its mode and
 * network waiting) writes a `payouts.queued` operator event, so the operator hears when a queue
 * forms, not of every payout in it.
 */
export async function waitForHotWallet(
  transaction: Executor,
  payout: Payout,
  hotWallet: string,
  reason: string,
): Promise<{ queued: string; operatorEventId?: string }> {
  const queued = await transitionPayout(transaction, payout.id, ['pending'], 'queued');
  const operatorEvent =
    queued && (await firstInQueue(transaction, payout))
      ? await emitOperatorEvent(transaction, 'payouts.queued', payout.livemode, {
          network: payout.network,
          currency: payout.currency,
          payout_id: payout.id,
          hot_wallet: hotWallet,
          reason,
        })
      : undefined;
  return { queued: reason, ...(operatorEvent && { operatorEventId: operatorEvent.id }) };
}

async function firstInQueue(transaction: Executor, payout: Payout): Promise<boolean> {
  const other = await transaction
    .selectFrom('payouts')
    .select('id')
    .where('livemode', '=', payout.livemode)
    .where('network', '=', payout.network)
    .where('status', '=', 'queued')
    .where('id', '<>', payout.id)
    .executeTakeFirst();
  return other === undefined;
}
