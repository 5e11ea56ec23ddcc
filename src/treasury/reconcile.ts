/**
 * Reconciliation (docs/treasury.md): what the holdings ledger says each address holds, against what
 * the chain says, per network, mode and currency. Every address the ledger knows of is read for
 * every currency of its network that inflow watches there, so money nobody booked (a transfer the
 * watcher missed, a manual transfer out, gas sent by hand) shows as a difference too.
 *
 * What is in flight is left out rather than reported: an address whose sweep is under way, and the
 * treasury while any sweep of the network is, are read again at the next run. The gas wallet's
 * spending is booked but its funding is not (the operator sends it coin by hand), so it is not
 * compared: its chain balance is reported beside what sweeps spent.
 */
import { inTransaction, type Db } from '../db/database';
import { emitOperatorEvent } from '../events/emitter';
import { modeOf } from '../domain/mode';
import { networks, type Network } from '../domain/networks';
import { catchUpDepositHoldings, holdingsByAddress } from './holdings.repository';
import type { AnyTreasuryChain } from './sweep-context';

export interface Difference {
  account: string;
  address: string;
  currency: string;
  /** Base units, as decimal text. */
  expected: string;
  actual: string;
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
  /** The `reconciliation.mismatch` operator event written with the differences; none when there are none. */
  operatorEventId?: string;
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
  const busy = new Set([...open.map((sweep) => sweep.address), ...open.map((sweep) => sweep.treasury)]);
  const held = (await holdingsByAddress(deps.db, input.livemode, input.network)).filter(
    (row) => row.account === 'deposit_addresses' || row.account === 'treasury',
  );
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
  let checked = 0;
  let inFlight = 0;
  for (const entry of expected.values()) {
    if (busy.has(entry.address)) {
      inFlight++;
      continue;
    }
    const token = config.tokens.find((candidate) => candidate.currency === entry.currency);
    const actual = entry.currency === native ? await config.chain.nativeBalance(entry.address) : await config.chain.tokenBalance(token!.address, entry.address);
    checked++;
    if (actual !== entry.balance) {
      differences.push({
        account: entry.account,
        address: entry.address,
        currency: entry.currency,
        expected: entry.balance.toString(),
        actual: actual.toString(),
      });
    }
  }
  const report: ReconciliationReport = { runId: input.runId, livemode: input.livemode, network: input.network, checked, inFlight, differences };
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
