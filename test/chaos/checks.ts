/**
 * What the chaos run asserts, from outcomes only (the database, the receiver, the chain and the
 * API), never from how the gateway gets there:
 *
 *  - quiescence: every part up, the outbox drained (as /healthz shows it), no deposit in flight, no delivery pending, every event received,
 *    every on-chain transfer credited, every completed chain deposit still on the chain;
 *  - every deposit terminal and credited exactly once (the ledger's own invariants too), the
 *    balance equal to the sum of completed nets, on-chain money credited exactly;
 *  - every event row delivered at least once, every copy under its own `webhook-id`, signed;
 *  - every acknowledged write (customer, simulated deposit, resend) really done, once;
 *  - the API answered only 2xx, 4xx or 503, and never hung past the client's deadline;
 *  - the treasury (treasury-checks.ts): sweeps settled, the holdings ledger reconciled with the chain (the hot wallet's funding
 *    booked as exactly what the run put there), no nonce used twice or by a transaction inflow did not record, the treasury's
 *    USDT its funding and what the sweeps moved in less what the payouts sent, the signer's audit log whole;
 *  - payouts (payout-checks.ts): every one over, each completed one paid exactly once on the final chain (and the others not at
 *    all), booked once, the balance's pending, paid_out and available consistent, every acknowledged payout there, no other.
 *
 * Each finding is an Anomaly with a stable key (so a later round does not count it again), a
 * kind for the closing table and the moment it concerns, to attribute it to nearby faults.
 */
import { sql } from 'kysely';
import { TRANSFER_TOPIC } from '../../src/chains/evm/evm.adapter';
import { ledgerInvariantViolations } from '../../src/balance/ledger.repository';
import { parseAmount } from '../../src/domain/money';
import { currencyOn, isNetwork } from '../../src/domain/networks';
import { verifyWebhook } from '../../src/domain/signatures';
import { verdictOf, type ApiClient } from './api-client';
import type { LoadRecord } from './load';
import { delay } from '../../dev/managed-process';
import { partNames, rpcCall, type Stack } from './stack';
import { describePayouts, findPayoutAnomalies, pendingPayoutWork, type PayoutSummary } from './payout-checks';
import { describeTreasury, findTreasuryAnomalies, pendingTreasuryWork, type TreasurySummary } from './treasury-checks';
import type { ChaosReceiver } from './webhook-receiver';

export type AnomalyKind = 'lost' | 'doubled' | 'stuck' | 'violation';

export interface Anomaly {
  key: string;
  kind: AnomalyKind;
  what: string;
  /** When the thing it concerns happened (ms since the epoch), to find the faults near it. */
  at: number;
}

export interface CheckContext {
  stack: Stack;
  api: ApiClient;
  receiver: ChaosReceiver;
  load: LoadRecord;
  endpointSecret: string;
}

interface DepositRow {
  id: string;
  status: string;
  reversed_at: Date | null;
  simulated: boolean;
  network: string;
  currency: string;
  address: string;
  transaction_hash: string;
  log_index: number;
  amount: string;
  net_amount: string | null;
  created_at: Date;
  booked: number;
  reversals: number;
}

interface EventRow {
  id: string;
  type: string;
  object_id: string | null;
  created_at: Date;
}

interface DeliveryRow {
  id: string;
  event_id: string;
  status: string;
  redelivery: boolean;
  created_at: Date;
}

interface OnChainTransfer {
  transactionHash: string;
  logIndex: number;
  to: string;
  amount: bigint;
  blockNumber: number;
}

interface Snapshot {
  deposits: DepositRow[];
  events: EventRow[];
  unfinishedDeliveries: DeliveryRow[];
  customers: Array<{ id: string; created_at: Date }>;
  chain: { head: number; transfers: OnChainTransfer[] };
  /** Per webhook-id: answered 2xx, and every copy. */
  receipts: Map<string, { succeeded: number; total: number }>;
}

const TERMINAL = new Set(['completed', 'failed']);
const PROGRESS_EVERY_MS = 15_000;

async function takeSnapshot(ctx: CheckContext): Promise<Snapshot> {
  const { db, merchantId } = ctx.stack;
  const { rows: deposits } = await sql<DepositRow>`
    select d.id, d.status, d.reversed_at, d.simulated, d.network, d.currency, d.address, d.transaction_hash, d.log_index,
           d.amount::text as amount, d.net_amount::text as net_amount, d.created_at,
           (select count(*) from ledger_transactions t where t.deposit_id = d.id and t.kind = 'deposit')::int as booked,
           (select count(*) from ledger_transactions t where t.deposit_id = d.id and t.kind = 'reversal')::int as reversals
    from deposits d where d.merchant_id = ${merchantId} and d.livemode = false`.execute(db);
  const { rows: events } = await sql<EventRow>`
    select id, type, data->>'id' as object_id, created_at from events where merchant_id = ${merchantId} and livemode = false`.execute(db);
  const { rows: unfinishedDeliveries } = await sql<DeliveryRow>`
    select d.id, d.event_id, d.status, d.redelivery, d.created_at from webhook_deliveries d join events e on e.id = d.event_id
    where e.merchant_id = ${merchantId} and d.status <> 'succeeded'`.execute(db);
  const customers = await db.selectFrom('customers').select(['id', 'created_at']).where('merchant_id', '=', merchantId).where('livemode', '=', false).execute();
  const addresses = await db
    .selectFrom('customer_addresses')
    .select('address')
    .where('merchant_id', '=', merchantId)
    .where('livemode', '=', false)
    .where('family', '=', 'evm')
    .execute();
  const receipts = new Map<string, { succeeded: number; total: number }>();
  for (const receipt of ctx.receiver.receipts) {
    const id = String(receipt.request.headers['webhook-id'] ?? '');
    const counts = receipts.get(id) ?? { succeeded: 0, total: 0 };
    counts.total++;
    if (receipt.status >= 200 && receipt.status < 300) counts.succeeded++;
    receipts.set(id, counts);
  }
  return {
    deposits,
    events,
    unfinishedDeliveries,
    customers,
    chain: await chainTransfers(
      ctx.stack,
      addresses.map((row) => row.address),
    ),
    receipts,
  };
}

/** Every USDT transfer to the customers' addresses on the chain as it is now, from the run's first block. */
async function chainTransfers(stack: Stack, addresses: string[]): Promise<{ head: number; transfers: OnChainTransfer[] }> {
  const head = Number(await rpcCall(stack.rpcUrl, 'eth_blockNumber', []));
  if (addresses.length === 0 || head < stack.startBlock) return { head, transfers: [] };
  const topicOf = (address: string) => `0x${address.toLowerCase().replace(/^0x/, '').padStart(64, '0')}`;
  const logs = (await rpcCall(
    stack.rpcUrl,
    'eth_getLogs',
    [
      {
        address: stack.usdtAddress,
        fromBlock: `0x${stack.startBlock.toString(16)}`,
        toBlock: `0x${head.toString(16)}`,
        topics: [TRANSFER_TOPIC, null, addresses.map(topicOf)],
      },
    ],
    30_000,
  )) as Array<{ transactionHash: string; logIndex: string; topics: string[]; data: string; blockNumber: string }>;
  return {
    head,
    transfers: logs.map((log) => ({
      transactionHash: log.transactionHash.toLowerCase(),
      logIndex: Number(log.logIndex),
      to: `0x${log.topics[2]!.slice(-40)}`.toLowerCase(),
      amount: BigInt(log.data),
      blockNumber: Number(log.blockNumber),
    })),
  };
}

const transferKey = (hash: string, logIndex: number) => `${hash.toLowerCase()}:${logIndex}`;

function chainDepositsByTransfer(snapshot: Snapshot): Map<string, DepositRow[]> {
  const byTransfer = new Map<string, DepositRow[]>();
  for (const deposit of snapshot.deposits) {
    if (deposit.simulated || deposit.network !== 'ethereum') continue;
    const key = transferKey(deposit.transaction_hash, deposit.log_index);
    byTransfer.set(key, [...(byTransfer.get(key) ?? []), deposit]);
  }
  return byTransfer;
}

/** What is still in flight; empty when the gateway has settled. Keys in `ignore` (already reported) do not hold it up. */
export async function pendingWork(ctx: CheckContext, ignore: ReadonlySet<string>): Promise<Array<{ key: string; what: string }>> {
  const pending: Array<{ key: string; what: string }> = [];
  for (const name of partNames) if (!ctx.stack.parts[name].isUp) pending.push({ key: `part:${name}`, what: `${name} is not up` });
  if (pending.length > 0) return pending;
  // The relay has handed every committed workflow start to Temporal (the backlog /healthz shows).
  const health = await ctx.api.health();
  if (health.status !== 200) return [{ key: 'healthz', what: `/healthz answers ${health.status ?? health.error}` }];
  const outbox = health.body?.outbox as { queued: number; oldest_age_s: number | null } | null | undefined;
  if (outbox?.queued) pending.push({ key: 'outbox', what: `${outbox.queued} workflow starts still queued in the outbox (oldest ${outbox.oldest_age_s} s)` });
  const snapshot = await takeSnapshot(ctx);
  for (const deposit of snapshot.deposits) {
    if (!TERMINAL.has(deposit.status)) pending.push({ key: `deposit:${deposit.id}`, what: `deposit ${deposit.id} still ${deposit.status}` });
  }
  for (const delivery of snapshot.unfinishedDeliveries) {
    if (delivery.status === 'pending') pending.push({ key: `delivery:${delivery.id}`, what: `delivery ${delivery.id} of ${delivery.event_id} pending` });
  }
  for (const event of snapshot.events) {
    if (!snapshot.receipts.get(event.id)?.succeeded) pending.push({ key: `event:${event.id}`, what: `${event.type} ${event.id} not received` });
  }
  for (const { eventId, count } of resendsByEvent(ctx.load)) {
    if ((snapshot.receipts.get(eventId)?.succeeded ?? 0) < 1 + count) pending.push({ key: `resend:${eventId}`, what: `resent ${eventId} not received again` });
  }
  const deposits = chainDepositsByTransfer(snapshot);
  const onChain = new Set<string>();
  for (const transfer of snapshot.chain.transfers) {
    const key = transferKey(transfer.transactionHash, transfer.logIndex);
    onChain.add(key);
    if (!deposits.get(key)?.some((deposit) => deposit.status === 'completed')) {
      pending.push({ key: `transfer:${key}`, what: `on-chain transfer ${key} (block ${transfer.blockNumber}, head ${snapshot.chain.head}) not credited` });
    }
  }
  for (const [key, rows] of deposits) {
    for (const deposit of rows) {
      if (deposit.status === 'completed' && !onChain.has(key)) {
        pending.push({
          key: `offchain:${deposit.id}`,
          what: `deposit ${deposit.id} completed but its transfer ${key} is not on the chain (awaiting reversal)`,
        });
      }
    }
  }
  pending.push(...(await pendingTreasuryWork(ctx.stack)), ...(await pendingPayoutWork(ctx.stack)));
  return pending.filter((item) => !ignore.has(item.key));
}

/** Waits until nothing is pending (polling real state), or the timeout; says what was still pending then. */
export async function waitForQuiescence(
  ctx: CheckContext,
  timeoutMs: number,
  ignore: ReadonlySet<string>,
  progress: (line: string) => void,
): Promise<{ quiet: boolean; waitedMs: number; pending: Array<{ key: string; what: string }> }> {
  const started = Date.now();
  let pending: Array<{ key: string; what: string }> = [];
  let reportedAt = started;
  for (;;) {
    if (Date.now() - reportedAt >= PROGRESS_EVERY_MS && pending.length > 0) {
      reportedAt = Date.now();
      progress(`settling for ${((reportedAt - started) / 1000).toFixed(0)} s; pending: ${countByKind(pending)}; e.g. ${pending[0]!.what}`);
    }
    try {
      pending = await pendingWork(ctx, ignore);
    } catch (error) {
      pending = [{ key: 'snapshot', what: `could not read the state: ${(error as Error).message}` }];
    }
    if (pending.length === 0) return { quiet: true, waitedMs: Date.now() - started, pending };
    if (Date.now() - started > timeoutMs) return { quiet: false, waitedMs: Date.now() - started, pending };
    await delay(500);
  }
}

/** "deposit ×3, event ×2": pending items by what they are (the key's prefix). */
function countByKind(pending: Array<{ key: string }>): string {
  const counts = new Map<string, number>();
  for (const { key } of pending) counts.set(key.split(':')[0]!, (counts.get(key.split(':')[0]!) ?? 0) + 1);
  return [...counts].map(([kind, count]) => `${kind} ×${count}`).join(', ');
}

function resendsByEvent(load: LoadRecord): Array<{ eventId: string; count: number; firstAt: number }> {
  const byEvent = new Map<string, { count: number; firstAt: number }>();
  for (const resend of load.resends) {
    const entry = byEvent.get(resend.eventId) ?? { count: 0, firstAt: resend.acknowledgedAt };
    entry.count++;
    byEvent.set(resend.eventId, entry);
  }
  return [...byEvent].map(([eventId, entry]) => ({ eventId, ...entry }));
}

/** What the state holds, for the round's summary line. */
export interface StateSummary {
  deposits: number;
  completed: number;
  failed: number;
  reversed: number;
  onChainDeposits: number;
  /** Deposits from the chain whose transfer a devnet restart took away. */
  reorgedAway: number;
  transfersOnChain: number;
  events: number;
  /** Copies the receiver got beyond the first successful one per event (retries, redeliveries, resends). */
  extraCopies: number;
  treasury: TreasurySummary;
  payouts: PayoutSummary;
}

export function describeState(state: StateSummary): string {
  return (
    `${state.deposits} deposits (${state.completed} completed, ${state.failed} failed of which ${state.reversed} reversed; ` +
    `${state.onChainDeposits} from the chain, ${state.reorgedAway} of them reorganised away), ` +
    `${state.transfersOnChain} transfers on the final chain, ${state.events} events, ${state.extraCopies} extra webhook copies; ` +
    `${describeTreasury(state.treasury)}; ${describePayouts(state.payouts)}`
  );
}

/** Every anomaly in the current state (run after quiescence, or after it timed out). */
export async function findAnomalies(ctx: CheckContext): Promise<{ anomalies: Anomaly[]; state: StateSummary }> {
  const snapshot = await takeSnapshot(ctx);
  const treasury = await findTreasuryAnomalies(ctx.stack, ctx.load);
  const eventKeys = new Set(snapshot.events.map((event) => `${event.object_id}:${event.type}`));
  const payouts = await findPayoutAnomalies(ctx, (objectId, type) => eventKeys.has(`${objectId}:${type}`));
  const finalChain = new Set(snapshot.chain.transfers.map((transfer) => transferKey(transfer.transactionHash, transfer.logIndex)));
  const state: StateSummary = {
    deposits: snapshot.deposits.length,
    completed: snapshot.deposits.filter((deposit) => deposit.status === 'completed').length,
    failed: snapshot.deposits.filter((deposit) => deposit.status === 'failed').length,
    reversed: snapshot.deposits.filter((deposit) => deposit.reversed_at).length,
    onChainDeposits: snapshot.deposits.filter((deposit) => !deposit.simulated).length,
    reorgedAway: [...chainDepositsByTransfer(snapshot)].filter(([key]) => !finalChain.has(key)).length,
    transfersOnChain: snapshot.chain.transfers.length,
    events: snapshot.events.length,
    extraCopies: [...snapshot.receipts.values()].reduce((sum, counts) => sum + counts.total - Math.min(1, counts.succeeded), 0),
    treasury: treasury.summary,
    payouts: payouts.summary,
  };
  const anomalies: Anomaly[] = [...treasury.anomalies, ...payouts.anomalies];
  const add = (kind: AnomalyKind, key: string, what: string, at: number | Date) =>
    anomalies.push({ kind, key, what, at: typeof at === 'number' ? at : at.getTime() });
  const depositsById = new Map(snapshot.deposits.map((deposit) => [deposit.id, deposit]));

  // Every deposit terminal, credited exactly once (and reversed at most once, only after a booking).
  for (const deposit of snapshot.deposits) {
    const label = `deposit ${deposit.id} (${deposit.simulated ? 'simulated' : 'on-chain'} ${deposit.network})`;
    if (!TERMINAL.has(deposit.status)) {
      add('stuck', `deposit:${deposit.id}`, `${label} never left ${deposit.status}`, deposit.created_at);
      continue;
    }
    const expected = deposit.status === 'completed' ? [1, 0] : deposit.reversed_at ? [1, 1] : [0, 0];
    if (deposit.booked === expected[0] && deposit.reversals === expected[1]) continue;
    const counts = `booked ${deposit.booked}×, reversed ${deposit.reversals}× (expected ${expected[0]}/${expected[1]})`;
    const kind = deposit.booked > expected[0]! || deposit.reversals > expected[1]! ? 'doubled' : 'lost';
    add(kind, `credit:${deposit.id}`, `${label} ${deposit.status}${deposit.reversed_at ? ' (reversed)' : ''}: ${counts}`, deposit.created_at);
  }

  for (const violation of await ledgerInvariantViolations(ctx.stack.db)) add('violation', `ledger:${violation}`, `ledger: ${violation}`, Date.now());
  await checkBalance(ctx, snapshot, add);

  // On-chain money: every transfer on the final chain credited once; nothing credited that is not on it.
  const deposits = chainDepositsByTransfer(snapshot);
  const onChain = new Set<string>();
  const sentAt = new Map(ctx.load.transfers.map((transfer) => [transfer.hash.toLowerCase(), transfer.sentAt]));
  for (const transfer of snapshot.chain.transfers) {
    const key = transferKey(transfer.transactionHash, transfer.logIndex);
    onChain.add(key);
    const rows = deposits.get(key) ?? [];
    const at = sentAt.get(transfer.transactionHash) ?? Date.now();
    const completed = rows.filter((deposit) => deposit.status === 'completed');
    if (completed.length > 1) add('doubled', `transfer:${key}`, `on-chain transfer ${key} credited by ${completed.length} deposits`, at);
    else if (completed.length === 0 && !rows.some((deposit) => !TERMINAL.has(deposit.status))) {
      const seen = rows.length === 0 ? 'never detected' : `its deposit ended ${rows.map((deposit) => deposit.status).join(', ')}`;
      add('lost', `transfer:${key}`, `on-chain transfer ${key} of ${transfer.amount} to ${transfer.to} is not credited (${seen})`, at);
    } else if (completed[0] && BigInt(completed[0].amount) !== transfer.amount) {
      add('violation', `amount:${key}`, `deposit ${completed[0].id} credits ${completed[0].amount}, the chain moved ${transfer.amount}`, at);
    }
  }
  for (const [key, rows] of deposits) {
    for (const deposit of rows) {
      if (deposit.status === 'completed' && !onChain.has(key)) {
        add('doubled', `offchain:${deposit.id}`, `deposit ${deposit.id} is credited but its transfer ${key} is not on the final chain`, deposit.created_at);
      }
    }
  }

  // Events: delivered at least once each, every copy under the event's own id, correctly signed.
  const eventIds = new Set(snapshot.events.map((event) => event.id));
  const unfinishedByEvent = new Map(snapshot.unfinishedDeliveries.map((delivery) => [delivery.event_id, delivery]));
  for (const event of snapshot.events) {
    if (snapshot.receipts.get(event.id)?.succeeded) continue;
    const delivery = unfinishedByEvent.get(event.id);
    if (delivery?.status === 'pending')
      add('stuck', `event:${event.id}`, `${event.type} ${event.id}: its delivery ${delivery.id} is still pending`, event.created_at);
    else add('lost', `event:${event.id}`, `${event.type} ${event.id} (about ${event.object_id}) never reached the receiver`, event.created_at);
  }
  for (const delivery of snapshot.unfinishedDeliveries) {
    if (delivery.status === 'failed')
      add('lost', `delivery:${delivery.id}`, `delivery ${delivery.id} of ${delivery.event_id} gave up (failed)`, delivery.created_at);
    else if (snapshot.receipts.get(delivery.event_id)?.succeeded) {
      add(
        'stuck',
        `delivery:${delivery.id}`,
        `${delivery.redelivery ? 'redelivery' : 'delivery'} ${delivery.id} of ${delivery.event_id} is still pending`,
        delivery.created_at,
      );
    }
  }
  ctx.receiver.receipts.forEach((receipt, index) => {
    const id = String(receipt.request.headers['webhook-id'] ?? '');
    let body: { id?: unknown } | undefined;
    try {
      // As the receiver would have checked it on arrival: the timestamp against the moment it came in.
      body = verifyWebhook(receipt.request.rawBody, receipt.request.headers, ctx.endpointSecret, { nowSeconds: Math.floor(receipt.at / 1000) }) as {
        id?: unknown;
      };
    } catch (error) {
      add('violation', `receipt:${index}`, `delivery #${index} of ${id || '(no webhook-id)'} fails verification: ${(error as Error).message}`, receipt.at);
      return;
    }
    if (body.id !== id) add('violation', `receipt:${index}`, `delivery #${index} carries webhook-id ${id} for event ${String(body.id)}`, receipt.at);
    else if (!eventIds.has(id)) add('violation', `receipt:${index}`, `delivery #${index} is of ${id}, which is not in the event log`, receipt.at);
  });

  // No event written twice for one change; each change has its event.
  const eventsByObject = new Map<string, EventRow[]>();
  for (const event of snapshot.events) {
    const key = `${event.object_id}:${event.type}`;
    eventsByObject.set(key, [...(eventsByObject.get(key) ?? []), event]);
  }
  for (const [key, events] of eventsByObject) {
    if (events.length > 1) add('doubled', `events:${key}`, `${events.length} ${events[0]!.type} events for ${events[0]!.object_id}`, events[0]!.created_at);
  }
  const hasEvent = (objectId: string, type: string) => eventsByObject.has(`${objectId}:${type}`);
  for (const customer of snapshot.customers) {
    if (!hasEvent(customer.id, 'customer.created'))
      add('lost', `events:${customer.id}:customer.created`, `customer ${customer.id} has no customer.created event`, customer.created_at);
  }
  for (const deposit of snapshot.deposits) {
    const type =
      deposit.status === 'completed'
        ? 'deposit.completed'
        : deposit.reversed_at
          ? 'deposit.reversed'
          : deposit.status === 'failed'
            ? 'deposit.failed'
            : undefined;
    if (type && !hasEvent(deposit.id, type))
      add('lost', `events:${deposit.id}:${type}`, `deposit ${deposit.id} is ${deposit.status} without a ${type} event`, deposit.created_at);
  }

  // Acknowledged writes happened, with the outcome asked for.
  const customerIds = new Set(snapshot.customers.map((customer) => customer.id));
  for (const customer of ctx.load.customers) {
    if (!customerIds.has(customer.id))
      add('lost', `customer:${customer.id}`, `customer ${customer.id} was acknowledged but does not exist`, customer.acknowledgedAt);
  }
  for (const simulated of ctx.load.simulated) {
    const deposit = depositsById.get(simulated.depositId);
    if (!deposit)
      add('lost', `simulated:${simulated.depositId}`, `simulated deposit ${simulated.depositId} was acknowledged but does not exist`, simulated.acknowledgedAt);
    else if (TERMINAL.has(deposit.status) && deposit.status !== simulated.outcome) {
      add(
        'violation',
        `simulated:${simulated.depositId}`,
        `simulated deposit ${deposit.id} ended ${deposit.status}, asked for ${simulated.outcome}`,
        simulated.acknowledgedAt,
      );
    }
  }
  for (const { eventId, count, firstAt } of resendsByEvent(ctx.load)) {
    const received = snapshot.receipts.get(eventId)?.succeeded ?? 0;
    if (received < 1 + count) add('lost', `resend:${eventId}`, `${eventId} resent ${count}× but received ${received}× in all`, firstAt);
  }
  for (const write of ctx.load.unfinished)
    add('violation', `write:${write.idempotencyKey}`, `POST ${write.path} never answered 2xx: ${write.lastAnswer}`, write.at);
  for (const write of ctx.load.refused) add('violation', `write:${write.idempotencyKey}`, `POST ${write.path} refused: ${write.lastAnswer}`, write.at);

  // The API under faults: 2xx, 4xx or 503, or no answer only while the run had it down; never a hang, never a crash.
  for (const crash of ctx.stack.parts.api.crashes) add('violation', `crash:api:${crash.at}`, `the API process exited by itself (${crash.exit})`, crash.at);
  const apiDown = ctx.stack.parts.api.downIntervals;
  ctx.api.calls.forEach((call, index) => {
    const verdict = verdictOf(call, apiDown);
    if (verdict === 'answered' || verdict === 'no answer while the API was killed') return;
    const answer = call.status ?? call.error;
    add('violation', `call:${index}`, `${call.method} ${call.route}: ${verdict} (${answer}, ${call.finishedAt - call.startedAt} ms)`, call.startedAt);
  });
  return { anomalies, state };
}

/** GET /balance equals, per network and currency, the sum of the completed deposits' nets and their count. */
async function checkBalance(ctx: CheckContext, snapshot: Snapshot, add: (kind: AnomalyKind, key: string, what: string, at: number) => void): Promise<void> {
  const answer = await ctx.api.request('GET', '/balance');
  if (answer.status !== 200) {
    add('violation', `balance:answer:${Date.now()}`, `GET /balance answered ${answer.status ?? answer.error} at quiescence`, Date.now());
    return;
  }
  const expected = new Map<string, { net: bigint; count: number }>();
  for (const deposit of snapshot.deposits) {
    if (deposit.status !== 'completed') continue;
    const key = `${deposit.network}/${deposit.currency}`;
    const entry = expected.get(key) ?? { net: 0n, count: 0 };
    entry.net += BigInt(deposit.net_amount ?? '0');
    entry.count++;
    expected.set(key, entry);
  }
  const shown = new Map<string, { net: bigint; count: number }>();
  for (const row of answer.body.by_currency as Array<{ network: string; currency: string; net: string; deposit_count: number }>) {
    const decimals = (isNetwork(row.network) && currencyOn(row.network, row.currency)?.decimals) || 0;
    shown.set(`${row.network}/${row.currency}`, { net: parseAmount(row.net, decimals), count: row.deposit_count });
  }
  for (const key of new Set([...expected.keys(), ...shown.keys()])) {
    const want = expected.get(key) ?? { net: 0n, count: 0 };
    const got = shown.get(key) ?? { net: 0n, count: 0 };
    if (want.net !== got.net || want.count !== got.count) {
      add(
        'violation',
        `balance:${key}:${got.net}:${want.net}`,
        `balance ${key}: net ${got.net} over ${got.count} deposits, completed deposits sum to ${want.net} over ${want.count}`,
        Date.now(),
      );
    }
  }
}
