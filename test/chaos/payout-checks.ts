/**
 * The chaos run's payout checks (docs/payouts.md), from outcomes only: the database, the API and
 * the final chain, read from anvil itself.
 *
 *  - settled: every payout completed, failed or canceled (none left pending, queued, sending or
 *    broadcast); none failed (the hot wallet is funded: a failure is a refusal or a revert no fault
 *    should cause); canceled only when the load's cancel said so, and every acknowledged cancel held;
 *  - paid once: each completed payout's destination holds exactly its amount on the final chain,
 *    from its own transaction (mined, succeeded, from the hot wallet); a destination of a payout not
 *    completed holds nothing; the hot wallet's USDT Transfer logs are one per completed payout, and
 *    its nonce is the count of payouts whose transaction was mined;
 *  - booked: one ledger `payout` per completed payout and none for the others, the holdings ledger's
 *    `paid_out` the completed amounts, each refunded deposit's `amount_refunded` its completed
 *    refunds, the events of each outcome (payout.completed, payout.failed, payout.canceled, deposit.refunded);
 *  - balance: `GET /balance` pending 0 everywhere, `paid_out` the completed amounts and fees, `available` net less that;
 *  - acknowledged: every payout the load was answered exists with the terms asked, and no other exists (a retry made twice).
 *
 * The treasury's side (the hot wallet's transactions among the recorded ones, its USDT and ETH
 * reconciled, its funding booked as exactly what the run put there) is in treasury-checks.ts.
 */
import { sql } from 'kysely';
import { TRANSFER_TOPIC } from '../../src/chains/evm/evm.adapter';
import { parseAmount } from '../../src/domain/money';
import { currencyOn, isNetwork } from '../../src/domain/networks';
import type { ApiClient } from './api-client';
import type { LoadRecord } from './load';
import { rpcCall, type Stack } from './stack';
import { balanceOfData, rpcBatch } from './treasury-checks';

/** The invariants, in the order the report lists them. */
export const payoutInvariants = ['payouts settled', 'paid once', 'payouts booked', 'balance', 'acknowledged'] as const;
export type PayoutInvariant = (typeof payoutInvariants)[number];

/** As checks.ts's Anomaly (kept apart: checks.ts imports this file). */
interface Anomaly {
  key: string;
  kind: 'lost' | 'doubled' | 'stuck' | 'violation';
  what: string;
  at: number;
}

export interface PayoutSummary {
  payouts: number;
  refunds: number;
  completed: number;
  failed: number;
  canceled: number;
  /** Cancels the load asked for, and how many were answered canceled. */
  cancelsAsked: number;
  cancelsWon: number;
  /** The hot wallet's nonce on the final chain: the transactions it sent. */
  hotWalletNonce: number;
  /** USDT base units the completed payouts sent. */
  paidOut: bigint;
  /** The longest a completed payout took from its creation to its booking (faults on its way included). */
  slowestMs: number;
  findings: Record<PayoutInvariant, number>;
}

export function describePayouts(summary: PayoutSummary): string {
  return (
    `payouts: ${summary.payouts} made (${summary.refunds} refunds; ${summary.completed} completed, ${summary.failed} failed, ` +
    `${summary.canceled} canceled of ${summary.cancelsAsked} cancels asked, ${summary.cancelsWon} answered canceled), ` +
    `${summary.paidOut} USDT base units paid out, hot wallet nonce ${summary.hotWalletNonce}, slowest completed in ${(summary.slowestMs / 1000).toFixed(1)} s`
  );
}

/** One line per invariant for the report: OK, or how many findings. */
export function payoutInvariantLines(summary: PayoutSummary): string[] {
  return payoutInvariants.map((name) => `  ${name.padEnd(16)} ${summary.findings[name] === 0 ? 'OK' : `${summary.findings[name]} finding(s)`}`);
}

interface PayoutRow {
  id: string;
  status: string;
  network: string;
  currency: string;
  amount: string;
  fee: string;
  destination: string;
  deposit_id: string | null;
  transaction_hash: string | null;
  failure_reason: string | null;
  created_at: Date;
  completed_at: Date | null;
  /** Ledger `payout` transactions booked for it. */
  booked: number;
  /** Its transactions recorded (treasury_transactions_sent). */
  sent: number;
}

const IN_FLIGHT = new Set(['requires_approval', 'pending', 'queued', 'sending', 'broadcast']);

async function payoutRows(stack: Stack): Promise<PayoutRow[]> {
  const { rows } = await sql<PayoutRow>`
    select p.id, p.status, p.network, p.currency, p.amount::text as amount, p.fee::text as fee, p.destination, p.deposit_id,
           lower(p.transaction_hash) as transaction_hash, p.failure_reason, p.created_at, p.completed_at,
           (select count(*) from ledger_transactions t where t.payout_id = p.id and t.kind = 'payout')::int as booked,
           (select count(*) from treasury_transactions_sent s where s.payout_id = p.id)::int as sent
      from payouts p where p.merchant_id = ${stack.merchantId} and p.livemode = false order by p.created_at`.execute(stack.db);
  return rows;
}

/** What keeps the payouts from being settled: one still in flight. */
export async function pendingPayoutWork(stack: Stack): Promise<Array<{ key: string; what: string }>> {
  const rows = await stack.db
    .selectFrom('payouts')
    .select(['id', 'status', 'deposit_id'])
    .where('merchant_id', '=', stack.merchantId)
    .where('livemode', '=', false)
    .where('status', 'in', [...IN_FLIGHT] as Array<'pending'>)
    .execute();
  return rows.map((row) => ({ key: `payout:${row.id}`, what: `${row.deposit_id ? 'refund' : 'payout'} ${row.id} is ${row.status}` }));
}

export async function findPayoutAnomalies(
  ctx: { stack: Stack; api: ApiClient; load: LoadRecord },
  hasEvent: (objectId: string, type: string) => boolean,
): Promise<{ anomalies: Anomaly[]; summary: PayoutSummary }> {
  const { stack, load } = ctx;
  const anomalies: Anomaly[] = [];
  const findings = Object.fromEntries(payoutInvariants.map((name) => [name, 0])) as Record<PayoutInvariant, number>;
  const add = (invariant: PayoutInvariant, kind: Anomaly['kind'], key: string, what: string, at: number | Date) => {
    findings[invariant]++;
    anomalies.push({ kind, key, what: `${invariant}: ${what}`, at: typeof at === 'number' ? at : at.getTime() });
  };
  const rows = await payoutRows(stack);
  const byId = new Map(rows.map((row) => [row.id, row]));
  const label = (row: PayoutRow) =>
    `${row.deposit_id ? `refund of ${row.deposit_id}` : 'payout'} ${row.id} (${row.amount} ${row.currency} to ${row.destination})`;
  const cancels = new Map(load.cancels.map((cancel) => [cancel.payoutId, cancel]));
  const completed = rows.filter((row) => row.status === 'completed');

  // Settled: every payout over; failed never (the hot wallet holds enough); canceled only as the load's cancel said.
  for (const row of rows) {
    const cancel = cancels.get(row.id);
    if (IN_FLIGHT.has(row.status)) add('payouts settled', 'stuck', `payout:${row.id}`, `${label(row)} never left ${row.status}`, row.created_at);
    else if (row.status === 'failed')
      add('payouts settled', 'violation', `payout-failed:${row.id}`, `${label(row)} failed: ${row.failure_reason ?? '(no reason)'}`, row.created_at);
    else if (row.status === 'canceled' && cancel?.outcome !== 'canceled')
      add(
        'payouts settled',
        'violation',
        `payout-canceled:${row.id}`,
        `${label(row)} is canceled, but ${cancel ? 'its cancel was answered payout_not_cancelable' : 'nobody canceled it'}`,
        row.created_at,
      );
    else if (row.status !== 'canceled' && cancel?.outcome === 'canceled')
      add(
        'payouts settled',
        'violation',
        `payout-cancel-lost:${row.id}`,
        `${label(row)} was answered canceled, but it is ${row.status}`,
        cancel.acknowledgedAt,
      );
  }

  // Paid once, from the final chain: the destinations' USDT, the hot wallet's Transfer logs and nonce, each completed payout's receipt.
  const hotWallet = stack.signer.treasury.toLowerCase();
  const usdtRows = rows.filter((row) => row.network === 'ethereum' && row.currency === 'USDT');
  const head = Number(await rpcCall(stack.rpcUrl, 'eth_blockNumber', []));
  const [balances, receipts, logs, nonce] = await Promise.all([
    rpcBatch(
      stack.rpcUrl,
      usdtRows.map((row) => ({ method: 'eth_call', params: [{ to: stack.usdtAddress, data: balanceOfData(row.destination) }, 'latest'] })),
    ),
    rpcBatch(
      stack.rpcUrl,
      completed.filter((row) => row.transaction_hash).map((row) => ({ method: 'eth_getTransactionReceipt', params: [row.transaction_hash] })),
    ),
    rpcCall(
      stack.rpcUrl,
      'eth_getLogs',
      [
        {
          address: stack.usdtAddress,
          fromBlock: `0x${stack.startBlock.toString(16)}`,
          toBlock: `0x${head.toString(16)}`,
          topics: [TRANSFER_TOPIC, `0x${hotWallet.replace(/^0x/, '').padStart(64, '0')}`],
        },
      ],
      30_000,
    ) as Promise<Array<{ transactionHash: string; topics: string[]; data: string }>>,
    rpcCall(stack.rpcUrl, 'eth_getTransactionCount', [stack.signer.treasury, 'latest']),
  ]);
  usdtRows.forEach((row, index) => {
    const held = BigInt(balances[index] as string);
    const owed = row.status === 'completed' ? BigInt(row.amount) : 0n;
    if (held === owed) return;
    const kind = held > owed ? 'doubled' : 'lost';
    add('paid once', kind, `destination:${row.id}`, `${label(row)} is ${row.status}, and its destination holds ${held} on the final chain`, row.created_at);
  });
  const receiptOf = new Map(
    completed
      .filter((row) => row.transaction_hash)
      .map((row, index) => [row.id, receipts[index] as { status: string; from: string; blockNumber: string } | null]),
  );
  for (const row of completed) {
    const receipt = receiptOf.get(row.id);
    if (!row.transaction_hash) add('paid once', 'violation', `payout-hash:${row.id}`, `${label(row)} is completed without a transaction hash`, row.created_at);
    else if (!receipt)
      add(
        'paid once',
        'lost',
        `payout-tx:${row.id}`,
        `${label(row)} is completed, but its transaction ${row.transaction_hash} is not on the final chain`,
        row.created_at,
      );
    else if (receipt.status !== '0x1' || receipt.from.toLowerCase() !== hotWallet)
      add(
        'paid once',
        'violation',
        `payout-tx:${row.id}`,
        `${label(row)} is completed, but its transaction ${row.transaction_hash} ${receipt.status !== '0x1' ? 'reverted' : `is from ${receipt.from}`}`,
        row.created_at,
      );
  }
  const completedByHash = new Map(completed.filter((row) => row.transaction_hash).map((row) => [row.transaction_hash!, row]));
  const transfersOf = new Map<string, number>();
  for (const log of logs) {
    const hash = log.transactionHash.toLowerCase();
    const to = `0x${log.topics[2]!.slice(-40)}`;
    const amount = BigInt(log.data);
    const row = completedByHash.get(hash);
    transfersOf.set(hash, (transfersOf.get(hash) ?? 0) + 1);
    if (!row || row.destination.toLowerCase() !== to || BigInt(row.amount) !== amount)
      add(
        'paid once',
        'doubled',
        `hot-transfer:${hash}`,
        `the hot wallet sent ${amount} USDT to ${to} in ${hash}, which is no completed payout's transfer`,
        Date.now(),
      );
  }
  for (const row of completed.filter((candidate) => candidate.currency === 'USDT' && candidate.transaction_hash)) {
    const count = transfersOf.get(row.transaction_hash!) ?? 0;
    if (count !== 1 && receiptOf.get(row.id))
      add(
        'paid once',
        count > 1 ? 'doubled' : 'lost',
        `payout-transfers:${row.id}`,
        `${label(row)}: its transaction moved USDT ${count} times`,
        row.created_at,
      );
  }
  // Transactions the hot wallet sent: each completed payout's, and a failed one's whose transaction was mined (and reverted).
  const hotWalletNonce = Number(nonce);
  const mined = completed.length + rows.filter((row) => row.status === 'failed' && row.transaction_hash).length;
  if (hotWalletNonce !== mined)
    add(
      'paid once',
      hotWalletNonce > mined ? 'doubled' : 'lost',
      `hot-wallet-nonce:${hotWalletNonce}:${mined}`,
      `the hot wallet ${stack.signer.treasury} sent ${hotWalletNonce} transactions on the final chain, its payouts account for ${mined}`,
      Date.now(),
    );

  // Booked: the merchant ledger once per completed payout, the holdings ledger's paid_out, each refund on its deposit, the events.
  for (const row of rows) {
    const expected = row.status === 'completed' ? 1 : 0;
    if (row.booked !== expected)
      add(
        'payouts booked',
        row.booked > expected ? 'doubled' : 'lost',
        `payout-booked:${row.id}`,
        `${label(row)} is ${row.status} and booked ${row.booked}× in the ledger`,
        row.created_at,
      );
    if (row.sent > 1) add('payouts booked', 'doubled', `payout-sent:${row.id}`, `${label(row)} has ${row.sent} transactions recorded`, row.created_at);
    // A cancel wins only before the nonce is taken (one conditional update of the row or the other).
    if (row.status === 'canceled' && row.sent > 0)
      add('payouts booked', 'violation', `payout-canceled-sent:${row.id}`, `${label(row)} is canceled, but its transaction was allocated`, row.created_at);
    const events = row.status === 'completed' ? ['payout.created', 'payout.broadcast', 'payout.completed'] : ['payout.created', `payout.${row.status}`];
    if (row.status === 'completed' && row.deposit_id) events.push('deposit.refunded');
    for (const type of IN_FLIGHT.has(row.status) ? [] : events) {
      const objectId = type === 'deposit.refunded' ? row.deposit_id! : row.id;
      if (!hasEvent(objectId, type))
        add('payouts booked', 'lost', `payout-event:${row.id}:${type}`, `${label(row)} is ${row.status} without a ${type} event`, row.created_at);
    }
  }
  const paidOut = completed.filter((row) => row.currency === 'USDT').reduce((sum, row) => sum + BigInt(row.amount), 0n);
  const { rows: holdings } = await sql<{ paid_out: string }>`
    select coalesce(sum(amount), 0)::text as paid_out from holdings_entries
     where account = 'paid_out' and livemode = false and network = 'ethereum' and currency = 'USDT'`.execute(stack.db);
  if (BigInt(holdings[0]!.paid_out) !== paidOut)
    add(
      'payouts booked',
      'violation',
      `holdings-paid-out:${holdings[0]!.paid_out}:${paidOut}`,
      `the holdings ledger's paid_out is ${holdings[0]!.paid_out} USDT base units, the completed payouts sent ${paidOut}`,
      Date.now(),
    );
  const refundedDeposits = [...new Set(rows.filter((row) => row.deposit_id).map((row) => row.deposit_id!))];
  if (refundedDeposits.length > 0) {
    const deposits = await stack.db.selectFrom('deposits').select(['id', 'amount_refunded', 'created_at']).where('id', 'in', refundedDeposits).execute();
    for (const deposit of deposits) {
      const refunded = completed.filter((row) => row.deposit_id === deposit.id).reduce((sum, row) => sum + BigInt(row.amount), 0n);
      if (BigInt(deposit.amount_refunded) !== refunded)
        add(
          'payouts booked',
          BigInt(deposit.amount_refunded) > refunded ? 'doubled' : 'lost',
          `amount-refunded:${deposit.id}:${deposit.amount_refunded}`,
          `deposit ${deposit.id} shows ${deposit.amount_refunded} refunded, its completed refunds sent ${refunded}`,
          deposit.created_at,
        );
    }
  }

  await checkBalance(ctx.api, completed, add);

  // Acknowledged: every payout the load was answered exists, as asked; no payout exists that it was not answered.
  const acknowledged = new Set<string>();
  for (const asked of load.payouts) {
    acknowledged.add(asked.payoutId);
    const row = byId.get(asked.payoutId);
    if (!row) add('acknowledged', 'lost', `payout-ack:${asked.payoutId}`, `payout ${asked.payoutId} was acknowledged but does not exist`, asked.acknowledgedAt);
    else if (row.destination !== asked.destination || BigInt(row.amount) !== asked.amount || row.deposit_id !== (asked.depositId ?? null))
      add(
        'acknowledged',
        'violation',
        `payout-terms:${row.id}`,
        `${label(row)} is not what was asked: ${asked.amount} to ${asked.destination}${asked.depositId ? ` refunding ${asked.depositId}` : ''}`,
        asked.acknowledgedAt,
      );
  }
  const unanswered = load.unfinished.filter((write) => write.path === '/payouts' || write.path.endsWith('/refunds')).length;
  for (const row of rows) {
    if (!acknowledged.has(row.id))
      add(
        'acknowledged',
        'doubled',
        `payout-unasked:${row.id}`,
        `${label(row)} is ${row.status}, but no write was answered with it (${unanswered > 0 ? `${unanswered} payout writes went unanswered; or ` : ''}a retry made it again?)`,
        row.created_at,
      );
  }

  return {
    anomalies,
    summary: {
      payouts: rows.length,
      refunds: rows.filter((row) => row.deposit_id).length,
      completed: completed.length,
      failed: rows.filter((row) => row.status === 'failed').length,
      canceled: rows.filter((row) => row.status === 'canceled').length,
      cancelsAsked: load.cancels.length,
      cancelsWon: load.cancels.filter((cancel) => cancel.outcome === 'canceled').length,
      hotWalletNonce,
      paidOut,
      slowestMs: Math.max(0, ...completed.map((row) => (row.completed_at?.getTime() ?? 0) - row.created_at.getTime())),
      findings,
    },
  };
}

/** `GET /balance`: nothing held once every payout is over; paid_out what the completed ones sent with their fees; available the net less that. */
async function checkBalance(
  api: ApiClient,
  completed: PayoutRow[],
  add: (invariant: PayoutInvariant, kind: Anomaly['kind'], key: string, what: string, at: number) => void,
): Promise<void> {
  const answer = await api.request('GET', '/balance');
  if (answer.status !== 200) {
    add('balance', 'violation', `payout-balance:answer:${Date.now()}`, `GET /balance answered ${answer.status ?? answer.error} at quiescence`, Date.now());
    return;
  }
  const paid = new Map<string, bigint>();
  for (const row of completed)
    paid.set(`${row.network}/${row.currency}`, (paid.get(`${row.network}/${row.currency}`) ?? 0n) + BigInt(row.amount) + BigInt(row.fee));
  const shown = answer.body.by_currency as Array<{ network: string; currency: string; net: string; available: string; pending: string; paid_out: string }>;
  for (const row of shown) {
    const key = `${row.network}/${row.currency}`;
    const decimals = (isNetwork(row.network) && currencyOn(row.network, row.currency)?.decimals) || 0;
    const [net, available, pending, paidOut] = [row.net, row.available, row.pending, row.paid_out].map((text) => parseAmount(text, decimals)) as [
      bigint,
      bigint,
      bigint,
      bigint,
    ];
    const want = paid.get(key) ?? 0n;
    paid.delete(key);
    if (pending !== 0n || paidOut !== want || available !== net - want)
      add(
        'balance',
        'violation',
        `payout-balance:${key}:${pending}:${paidOut}:${available}`,
        `balance ${key}: pending ${pending}, paid_out ${paidOut}, available ${available} of net ${net}; the completed payouts and fees sum to ${want}, nothing should be pending`,
        Date.now(),
      );
  }
  for (const [key, want] of paid)
    add('balance', 'violation', `payout-balance:${key}:missing`, `balance ${key} is not shown, completed payouts took ${want}`, Date.now());
}
