/**
 * Reconciliation (docs/treasury.md): what the holdings ledger says each address holds, against what
 * the chain says, per network, mode and currency. Every address the ledger knows of is read for
 * every currency of its network that inflow watches there, so money nobody booked (a transfer the
 * watcher missed, a manual transfer out, gas sent by hand) shows as a difference too.
 *
 * What is in flight is left out rather than reported: an address whose sweep is under way, and the
 * treasury while any sweep of the network is (or a payout's transaction from it is not yet final),
 * are read again at the next run. The treasury holds more than the ledger says when the operator
 * put coin there by hand (gas for payouts, liquidity): that surplus is booked as funding; less is a
 * difference. The gas wallet's
 * spending is booked as it happens but its funding is not (the operator sends it coin by hand):
 * what it owns above what its spending left is booked here as funding, what it owns below that is
 * a difference; while one of its transactions is not yet final it is left out.
 */
import { inTransaction, type Db } from '../db/database';
import { emitOperatorEvent } from '../events/emitter';
import { modeOf } from '../domain/mode';
import { networks, type Network } from '../domain/networks';
import { bookHoldings, catchUpDepositHoldings, holdingsByAddress } from './holdings.repository';
import type { AnyTreasuryChain } from './sweep-context';

export interface Difference {
  account: string;
  address: string;
  currency: string;
  /** Base units, as decimal text. */
  expected: string;
  actual: string;
}

export interface Funding {
  /** Absent in reports before the treasury's funding was booked: the gas wallet's. */
  account?: 'gas_wallet' | 'treasury';
  address: string;
  currency: string;
  /** Base units, as decimal text. */
  amount: string;
}

export interface ReconciliationReport {
  runId: string;
  livemode: boolean;
  network: string;
  /** Address and currency pairs compared. */
  checked: number;
  /** Left out while their sweeps are in flight. */
  inFlight: number;
  differences: Difference[];
  /** The gas wallet's and the treasury's funding found and booked (what they own above what the ledger says they hold). */
  funded: Funding[];
  /** The `reconciliation.mismatch` operator event written with the differences; none when there are none. */
  operatorEventId?: string;
}

/** All the native coin an address owns: on Tron its stake too (staking takes TRX out of the balance, not away from its owner). */
function ownedNative(config: AnyTreasuryChain, address: string): Promise<bigint> {
  return config.family === 'tron' ? config.chain.ownedTrx(address) : config.chain.nativeBalance(address);
}

/**
 * Whether the gas wallet has a transaction not yet final (booked when it is) of a sweep still under
 * way: its balance is in between. One a finished sweep left behind is no longer awaited: if it was
 * mined, its spending is unbooked, and the difference says so.
 */
async function gasWalletSending(db: Db, input: { livemode: boolean; network: string }, address: string): Promise<boolean> {
  const row = await db
    .selectFrom('treasury_transactions_sent')
    .innerJoin('sweeps', 'sweeps.id', 'treasury_transactions_sent.sweep_id')
    .select('treasury_transactions_sent.id')
    .where('treasury_transactions_sent.livemode', '=', input.livemode)
    .where('treasury_transactions_sent.network', '=', input.network)
    .where('treasury_transactions_sent.from_address', '=', address)
    .where('treasury_transactions_sent.status', 'in', ['allocated', 'signed', 'broadcast'])
    .where('sweeps.status', 'in', ['pending', 'topping_up', 'sending'])
    .executeTakeFirst();
  return row !== undefined;
}

/** Compares the ledger's holdings with the chain for one network in one mode and records every difference found. */
export async function reconcile(
  deps: { db: Db; chainOf: (livemode: boolean, network: Network) => AnyTreasuryChain | undefined },
  input: { livemode: boolean; network: Network; runId: string },
): Promise<ReconciliationReport> {
  const config = deps.chainOf(input.livemode, input.network);
  if (!config) throw new Error(`no ${modeOf(input.livemode)}-mode node is configured for ${input.network}: nothing to reconcile there`);
  while ((await catchUpDepositHoldings(deps.db)) > 0) {
    // In pieces of 1000 bookings.
  }
  const open = await deps.db
    .selectFrom('sweeps')
    .select(['address', 'treasury'])
    .where('livemode', '=', input.livemode)
    .where('network', '=', input.network)
    .where('status', 'in', ['pending', 'topping_up', 'sending'])
    .execute();
  // A payout's transaction not yet final is booked when it is: until then the hot wallet (the treasury) is in between too.
  const paying = await deps.db
    .selectFrom('treasury_transactions_sent')
    .select('from_address')
    .where('livemode', '=', input.livemode)
    .where('network', '=', input.network)
    .where('payout_id', 'is not', null)
    .where('status', 'in', ['allocated', 'signed', 'broadcast'])
    .execute();
  const busy = new Set([...open.map((sweep) => sweep.address), ...open.map((sweep) => sweep.treasury), ...paying.map((sent) => sent.from_address)]);
  const holdings = await holdingsByAddress(deps.db, input.livemode, input.network);
  const held = holdings.filter((row) => row.account === 'deposit_addresses' || row.account === 'treasury');
  const expected = new Map<string, { account: string; address: string; currency: string; balance: bigint }>();
  const key = (address: string, currency: string) => `${address}|${currency}`;
  const native = networks[input.network].nativeCurrency;
  const currencies = [native, ...config.tokens.map((token) => token.currency)];
  for (const row of held) {
    for (const currency of currencies) {
      const entry = expected.get(key(row.address, currency)) ?? { account: row.account, address: row.address, currency, balance: 0n };
      if (currency === row.currency) entry.balance += BigInt(row.balance);
      expected.set(key(row.address, currency), entry);
    }
  }
  const differences: Difference[] = [];
  const funded: Funding[] = [];
  let checked = 0;
  let inFlight = 0;
  for (const entry of expected.values()) {
    if (busy.has(entry.address)) {
      inFlight++;
      continue;
    }
    const token = config.tokens.find((candidate) => candidate.currency === entry.currency);
    const actual = entry.currency === native ? await ownedNative(config, entry.address) : await config.chain.tokenBalance(token!.address, entry.address);
    checked++;
    // More at the treasury than sweeps brought and payouts left: the operator's own coin (gas for payouts, liquidity), booked as funding.
    if (entry.account === 'treasury' && actual > entry.balance) {
      await bookHoldings(
        deps.db,
        { livemode: input.livemode, network: input.network, kind: 'treasury_funding', sourceId: `${input.runId}:${entry.address}:${entry.currency}` },
        [
          { account: 'treasury', currency: entry.currency, address: entry.address, amount: actual - entry.balance },
          { account: 'funding', currency: entry.currency, address: null, amount: entry.balance - actual },
        ],
      );
      funded.push({ account: 'treasury', address: entry.address, currency: entry.currency, amount: (actual - entry.balance).toString() });
    } else if (actual !== entry.balance) {
      differences.push({
        account: entry.account,
        address: entry.address,
        currency: entry.currency,
        expected: entry.balance.toString(),
        actual: actual.toString(),
      });
    }
  }
  // The gas wallet: its spending is booked as it happens, its funding (coin the operator sends it by hand) is not. What the
  // chain shows it owns above what its spending left is that funding, booked now; below it, money left it unbooked: a difference.
  for (const row of holdings.filter((candidate) => candidate.account === 'gas_wallet' && candidate.currency === native)) {
    const sending = () => gasWalletSending(deps.db, input, row.address);
    if (await sending()) {
      inFlight++;
      continue;
    }
    const actual = await ownedNative(config, row.address);
    // A send that began while the balance was read may already be in it, and not yet booked.
    if (await sending()) {
      inFlight++;
      continue;
    }
    checked++;
    const booked = BigInt(row.balance);
    if (actual > booked) {
      await bookHoldings(deps.db, { livemode: input.livemode, network: input.network, kind: 'gas_funding', sourceId: `${input.runId}:${row.address}` }, [
        { account: 'gas_wallet', currency: native, address: row.address, amount: actual - booked },
        { account: 'funding', currency: native, address: null, amount: booked - actual },
      ]);
      funded.push({ account: 'gas_wallet', address: row.address, currency: native, amount: (actual - booked).toString() });
    } else if (actual < booked) {
      differences.push({ account: 'gas_wallet', address: row.address, currency: native, expected: booked.toString(), actual: actual.toString() });
    }
  }
  const report: ReconciliationReport = { runId: input.runId, livemode: input.livemode, network: input.network, checked, inFlight, differences, funded };
  if (differences.length === 0) return report;
  // The rows an operator lists and the operator event that tells them, together or not at all.
  const event = await inTransaction(deps.db, async (transaction) => {
    await transaction
      .insertInto('reconciliation_mismatches')
      .values(differences.map((difference) => ({ run_id: input.runId, livemode: input.livemode, network: input.network, ...difference })))
      .execute();
    return emitOperatorEvent(transaction, 'reconciliation.mismatch', input.livemode, {
      run_id: input.runId,
      network: input.network,
      checked,
      in_flight: inFlight,
      differences,
    });
  });
  return { ...report, operatorEventId: event.id };
}
