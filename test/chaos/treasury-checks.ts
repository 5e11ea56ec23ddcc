/**
 * The chaos run's treasury checks (docs/treasury.md), from outcomes only: the database, the signer's
 * audit log and the final chain, read from anvil itself.
 *
 *  - quiescence: every sweep run the load started closed, every sweep completed, skipped or failed, and a failed one
 *    only because its transaction reverted on the final chain;
 *  - reconcile: `reconcile()` finds no difference for test-mode ethereum, and leaves nothing out as in flight; what it
 *    booked as the treasury's funding (`treasury_funding`, its surplus over the ledger) is exactly the ETH and USDT the run
 *    put into the hot wallet by hand (more would be a payout booked that never left, or money from nowhere);
 *  - nonces: each mined transaction from the gas wallet, a deposit address or the hot wallet (payouts) is a version inflow
 *    recorded (treasury_transactions_sent, treasury_sent_replaced); no (sender, nonce) recorded twice; each booked
 *    transaction's nonce used on the final chain by one of its own versions, in the block it was booked from;
 *  - treasury: the treasury's USDT on the chain equals the run's funding plus the completed USDT sweeps less the completed
 *    USDT payouts (payout-checks.ts checks each payout against the chain);
 *  - holdings: the holdings ledger's own invariants (holdingsInvariantViolations);
 *  - audit log: its hash chain whole after every kill -9 of the signer, and every signature the worker
 *    recorded in it.
 */
import { sql } from 'kysely';
import { verifyAuditLog } from '../../src/signer/audit-log';
import { holdingsInvariantViolations } from '../../src/treasury/holdings.repository';
import { reconcile } from '../../src/treasury/reconcile';
import { createTreasuryDeps } from '../../src/treasury/treasury-deps';
import type { LoadRecord } from './load';
import type { Stack } from './stack';

/** The invariants, in the order the report lists them. */
export const treasuryInvariants = ['sweeps settled', 'reconcile', 'nonces', 'treasury USDT', 'holdings ledger', 'audit log'] as const;
export type TreasuryInvariant = (typeof treasuryInvariants)[number];

/** As checks.ts's Anomaly (kept apart: checks.ts imports this file). */
interface Anomaly {
  key: string;
  kind: 'lost' | 'doubled' | 'stuck' | 'violation';
  what: string;
  at: number;
}

export interface TreasurySummary {
  sweepRuns: number;
  sweeps: number;
  completed: number;
  skipped: number;
  failed: number;
  treasuryUsdt: bigint;
  sweptUsdt: bigint;
  /** What completed payouts took out of the treasury. */
  paidUsdt: bigint;
  /** Transactions mined on the final chain from the gas wallet, the deposit addresses and the hot wallet. */
  minedFromOurs: number;
  sent: number;
  reconciled: number;
  auditLines: number;
  /** Per invariant: how many findings the last check had. */
  findings: Record<TreasuryInvariant, number>;
}

export function describeTreasury(summary: TreasurySummary): string {
  return (
    `treasury: ${summary.sweepRuns} sweep runs started, ${summary.sweeps} sweeps (${summary.completed} completed, ${summary.skipped} skipped, ` +
    `${summary.failed} failed), ${summary.sent} transactions sent, ${summary.minedFromOurs} mined from the gas wallet, deposit addresses and hot wallet; ` +
    `treasury holds ${summary.treasuryUsdt} USDT base units, completed sweeps moved ${summary.sweptUsdt} in, completed payouts ${summary.paidUsdt} out; ` +
    `${summary.reconciled} balances reconciled; audit log ${summary.auditLines} lines`
  );
}

/** One line per invariant for the report: OK, or how many findings. */
export function treasuryInvariantLines(summary: TreasurySummary): string[] {
  return treasuryInvariants.map((name) => `  ${name.padEnd(16)} ${summary.findings[name] === 0 ? 'OK' : `${summary.findings[name]} finding(s)`}`);
}

interface SweepRow {
  id: string;
  status: string;
  currency: string;
  address: string;
  amount: string | null;
  failure_reason: string | null;
  created_at: Date;
}

interface SentRow {
  id: string;
  sweep_id: string | null;
  payout_id: string | null;
  purpose: string;
  from_address: string;
  nonce: string;
  hash: string | null;
  status: string;
  block_number: string | null;
  created_at: Date;
}

interface MinedTransaction {
  hash: string;
  from: string;
  nonce: number;
  blockNumber: number;
}

/** What keeps the treasury from being settled: a sweep run still open, a sweep under way. */
export async function pendingTreasuryWork(stack: Stack): Promise<Array<{ key: string; what: string }>> {
  const pending: Array<{ key: string; what: string }> = [];
  const under = await stack.db
    .selectFrom('sweeps')
    .select(['id', 'status', 'currency', 'address'])
    .where('status', 'in', ['pending', 'topping_up', 'sending'])
    .execute();
  for (const sweep of under) pending.push({ key: `sweep:${sweep.id}`, what: `sweep ${sweep.id} of ${sweep.currency} at ${sweep.address} is ${sweep.status}` });
  // Any sweep run still open: the load's, or one the worker's hourly Schedule started.
  const open = stack.client.workflow.list({ query: `WorkflowType = 'sweepRunWorkflow' AND ExecutionStatus = 'Running'` });
  await stack.client.withDeadline(Date.now() + 5_000, async () => {
    for await (const run of open) pending.push({ key: `sweep-run:${run.workflowId}`, what: `sweep run ${run.workflowId} is still running` });
  });
  return pending;
}

/** A sweep run's status; NOT_FOUND when its start never reached Temporal (the load gave up on it while Temporal was down). */
async function sweepRunStatus(stack: Stack, workflowId: string): Promise<string> {
  try {
    return (await stack.client.withDeadline(Date.now() + 5_000, () => stack.client.workflow.getHandle(workflowId).describe())).status.name;
  } catch (error) {
    if ((error as Error).name === 'WorkflowNotFoundError') return 'NOT_FOUND';
    throw error;
  }
}

export async function findTreasuryAnomalies(stack: Stack, load: LoadRecord): Promise<{ anomalies: Anomaly[]; summary: TreasurySummary }> {
  const anomalies: Anomaly[] = [];
  const findings = Object.fromEntries(treasuryInvariants.map((name) => [name, 0])) as Record<TreasuryInvariant, number>;
  const add = (invariant: TreasuryInvariant, kind: Anomaly['kind'], key: string, what: string, at: number | Date) => {
    findings[invariant]++;
    anomalies.push({ kind, key, what: `${invariant}: ${what}`, at: typeof at === 'number' ? at : at.getTime() });
  };
  const { db, signer } = stack;

  // Sweeps settled: every one completed, skipped or failed. A failed one is a violation unless the final chain
  // says why: its transaction reverted there (the address no longer held what was planned, e.g. its payment
  // was reorganised away by anvil's kill -9), which the reconcile and treasury checks then account for.
  const sweeps = (
    await sql<SweepRow>`
    select id, status, currency, address, amount::text as amount, failure_reason, created_at from sweeps
     where livemode = false and network = 'ethereum' order by created_at`.execute(db)
  ).rows;
  for (const sweep of sweeps) {
    if (['pending', 'topping_up', 'sending'].includes(sweep.status))
      add(
        'sweeps settled',
        'stuck',
        `sweep:${sweep.id}`,
        `sweep ${sweep.id} of ${sweep.currency} at ${sweep.address} never left ${sweep.status}`,
        sweep.created_at,
      );
    else if (sweep.status === 'failed' && !(await revertedOnTheFinalChain(stack.rpcUrl, sweep.failure_reason)))
      add(
        'sweeps settled',
        'violation',
        `sweep-failed:${sweep.id}`,
        `sweep ${sweep.id} of ${sweep.currency} at ${sweep.address} failed: ${sweep.failure_reason}`,
        sweep.created_at,
      );
  }
  for (const run of load.sweepRuns) {
    const status = await sweepRunStatus(stack, run.workflowId);
    if (status === 'RUNNING') add('sweeps settled', 'stuck', `sweep-run:${run.workflowId}`, `sweep run ${run.workflowId} is still running`, run.startedAt);
    else if (status !== 'COMPLETED' && status !== 'NOT_FOUND')
      add('sweeps settled', 'violation', `sweep-run:${run.workflowId}`, `sweep run ${run.workflowId} ended ${status}`, run.startedAt);
  }

  // (a) The holdings ledger against the chain, as the daily reconciliation runs it.
  const deps = { db, ...createTreasuryDeps(stack.workerConfig) };
  const report = await reconcile(deps, { livemode: false, network: 'ethereum', runId: `chaos-${Date.now()}` });
  for (const difference of report.differences) {
    add(
      'reconcile',
      'violation',
      `reconcile:${difference.account}:${difference.address}:${difference.currency}:${difference.expected}:${difference.actual}`,
      `${difference.account} ${difference.address} holds ${difference.actual} ${difference.currency} base units on the chain, the holdings ledger says ${difference.expected}`,
      Date.now(),
    );
  }
  if (report.inFlight > 0)
    add('reconcile', 'stuck', `reconcile-in-flight:${Date.now()}`, `${report.inFlight} balances left out as in flight after quiescence`, Date.now());
  // What reconcile booked as the hot wallet's funding, in every run so far: what the run put there by hand, no more, no less.
  const treasury = signer.treasury.toLowerCase();
  const { rows: fundings } = await sql<{ currency: string; amount: string }>`
    select e.currency, sum(e.amount)::text as amount from holdings_entries e join holdings_transactions t on t.id = e.transaction_id
     where t.kind = 'treasury_funding' and e.account = 'treasury' and lower(e.address) = ${treasury}
       and e.livemode = false and e.network = 'ethereum' group by e.currency`.execute(db);
  const { rows: followed } = await sql<{ followed: boolean }>`
    select exists (select 1 from holdings_entries where account = 'treasury' and lower(address) = ${treasury}
                    and livemode = false and network = 'ethereum') as followed`.execute(db);
  // Reconcile reads the treasury once the holdings ledger follows it (a sweep or a payout booked there).
  if (followed[0]!.followed) {
    for (const [currency, funded] of [
      ['ETH', stack.hotWalletFunding.eth],
      ['USDT', stack.hotWalletFunding.usdt],
    ] as const) {
      const booked = BigInt(fundings.find((row) => row.currency === currency)?.amount ?? '0');
      if (booked !== funded)
        add(
          'reconcile',
          booked > funded ? 'lost' : 'violation',
          `treasury-funding:${currency}:${booked}`,
          `reconcile booked ${booked} ${currency} base units as the treasury ${signer.treasury}'s funding, the run put ${funded} there by hand` +
            (booked > funded ? ' (the treasury holds more than sweeps and payouts left: a payout booked that never left?)' : ''),
          Date.now(),
        );
    }
  }

  // (b) Nonces, from the final chain: every block since the token's, read from anvil.
  const sent = (
    await sql<SentRow>`
    select id, sweep_id, payout_id, purpose, lower(from_address) as from_address, nonce::text as nonce, lower(hash) as hash, status,
           block_number::text as block_number, created_at
      from treasury_transactions_sent where livemode = false and network = 'ethereum'`.execute(db)
  ).rows;
  const replaced = (
    await sql<{ sent_id: string; hash: string }>`
    select sent_id, lower(hash) as hash from treasury_sent_replaced where livemode = false and network = 'ethereum'`.execute(db)
  ).rows;
  const addresses = await db.selectFrom('customer_addresses').select('address').where('livemode', '=', false).where('family', '=', 'evm').execute();
  const senders = new Set(
    [signer.gasWallet, signer.treasury, ...addresses.map((row) => row.address), ...sweeps.map((sweep) => sweep.address)].map((a) => a.toLowerCase()),
  );
  const mined = await minedTransactionsFrom(stack, senders);
  const versions = new Map<string, Set<string>>();
  const sentByHash = new Map<string, SentRow>();
  for (const row of sent) {
    versions.set(row.id, new Set(row.hash ? [row.hash] : []));
    if (row.hash) sentByHash.set(row.hash, row);
  }
  for (const version of replaced) {
    versions.get(version.sent_id)?.add(version.hash);
    const row = sent.find((candidate) => candidate.id === version.sent_id);
    if (row) sentByHash.set(version.hash, row);
  }
  const minedAt = new Map(mined.map((tx) => [`${tx.from}:${tx.nonce}`, tx]));
  for (const tx of mined) {
    if (!sentByHash.has(tx.hash))
      add(
        'nonces',
        'violation',
        `unrecorded:${tx.hash}`,
        `${tx.hash} from ${tx.from} (nonce ${tx.nonce}, block ${tx.blockNumber}) is no version inflow recorded`,
        Date.now(),
      );
  }
  const bySenderNonce = new Map<string, SentRow[]>();
  // A transaction the signer refused holds no nonce (it went back to its sender): it is the sweep's failure, not a nonce's.
  const holding = sent.filter((row) => row.status !== 'refused');
  for (const row of holding) bySenderNonce.set(`${row.from_address}:${row.nonce}`, [...(bySenderNonce.get(`${row.from_address}:${row.nonce}`) ?? []), row]);
  for (const [key, rows] of bySenderNonce) {
    if (rows.length > 1)
      add(
        'nonces',
        'doubled',
        `nonce:${key}`,
        `nonce ${key} allocated to ${rows.length} transactions: ${rows.map((row) => row.id).join(', ')}`,
        rows[0]!.created_at,
      );
  }
  for (const row of holding) {
    const onChain = minedAt.get(`${row.from_address}:${row.nonce}`);
    const label = `${row.purpose} ${row.id} of ${row.payout_id ? `payout ${row.payout_id}` : `sweep ${row.sweep_id}`} (${row.from_address} nonce ${row.nonce})`;
    if (row.status === 'confirmed' || row.status === 'failed') {
      if (!onChain)
        add(
          'nonces',
          'lost',
          `sent-gone:${row.id}`,
          `${label} was booked ${row.status} from block ${row.block_number}, but its nonce is unused on the final chain (reorganised away after it was booked)`,
          row.created_at,
        );
      else if (!versions.get(row.id)!.has(onChain.hash))
        add(
          'nonces',
          'doubled',
          `sent-other:${row.id}`,
          `${label}: its nonce is used on the final chain by ${onChain.hash}, none of its versions`,
          row.created_at,
        );
      else if (String(onChain.blockNumber) !== row.block_number)
        add(
          'nonces',
          'violation',
          `sent-block:${row.id}`,
          `${label} was booked from block ${row.block_number}, but the final chain has it in block ${onChain.blockNumber} (its first block was reorganised away after it was booked)`,
          row.created_at,
        );
    } else if (onChain && versions.get(row.id)!.has(onChain.hash)) {
      add('nonces', 'stuck', `sent-unbooked:${row.id}`, `${label} is mined in block ${onChain.blockNumber} but still ${row.status}`, row.created_at);
    } else {
      add('nonces', 'stuck', `sent-unmined:${row.id}`, `${label} is ${row.status}, never mined`, row.created_at);
    }
  }

  // (c) The treasury's USDT on the chain is the run's funding, plus what the completed sweeps moved, less what the completed payouts sent.
  const treasuryUsdt = BigInt(
    (await rpcBatch(stack.rpcUrl, [{ method: 'eth_call', params: [{ to: stack.usdtAddress, data: balanceOfData(signer.treasury) }, 'latest'] }]))[0] as string,
  );
  const sweptUsdt = sweeps
    .filter((sweep) => sweep.status === 'completed' && sweep.currency === 'USDT')
    .reduce((sum, sweep) => sum + BigInt(sweep.amount ?? '0'), 0n);
  const { rows: paid } = await sql<{ paid: string }>`
    select coalesce(sum(amount), 0)::text as paid from payouts
     where livemode = false and network = 'ethereum' and currency = 'USDT' and status = 'completed'`.execute(db);
  const paidUsdt = BigInt(paid[0]!.paid);
  const expectedUsdt = stack.hotWalletFunding.usdt + sweptUsdt - paidUsdt;
  if (treasuryUsdt !== expectedUsdt)
    add(
      'treasury USDT',
      treasuryUsdt < expectedUsdt ? 'doubled' : 'violation',
      `treasury-usdt:${treasuryUsdt}:${expectedUsdt}`,
      `the treasury ${signer.treasury} holds ${treasuryUsdt} USDT base units on the chain; the run's funding ${stack.hotWalletFunding.usdt} ` +
        `and the completed sweeps' ${sweptUsdt} less the completed payouts' ${paidUsdt} make ${expectedUsdt}`,
      Date.now(),
    );

  // (d) The holdings ledger's own invariants.
  for (const violation of await holdingsInvariantViolations(db)) add('holdings ledger', 'violation', `holdings:${violation}`, violation, Date.now());

  // The signer's audit log: whole after every kill -9, with every signature the worker holds.
  const signedInLog = new Set<string>();
  const verified = await verifyAuditLog(signer.auditLog, (entry) => {
    if (entry.decision === 'signed' && entry.tx_hash) signedInLog.add(entry.tx_hash.toLowerCase());
  });
  if (!verified.ok) add('audit log', 'violation', `audit-log:${verified.line}`, `${signer.auditLog} line ${verified.line} ${verified.reason}`, Date.now());
  else {
    for (const [hash, row] of sentByHash) {
      if (!signedInLog.has(hash))
        add('audit log', 'lost', `audit:${hash}`, `${hash} (${row.purpose} ${row.id}) was signed, but the audit log has no line for it`, row.created_at);
    }
  }

  const count = (status: string) => sweeps.filter((sweep) => sweep.status === status).length;
  return {
    anomalies,
    summary: {
      sweepRuns: load.sweepRuns.length,
      sweeps: sweeps.length,
      completed: count('completed'),
      skipped: count('skipped'),
      failed: count('failed'),
      treasuryUsdt,
      sweptUsdt,
      paidUsdt,
      minedFromOurs: mined.length,
      sent: sent.length,
      reconciled: report.checked,
      auditLines: verified.lines,
      findings,
    },
  };
}

export function balanceOfData(address: string): string {
  // balanceOf(address): the selector, then the address as one word.
  return `0x70a08231${address.toLowerCase().replace(/^0x/, '').padStart(64, '0')}`;
}

/** Every transaction on the final chain (from the token's block) sent by one of `senders`. */
async function minedTransactionsFrom(stack: Stack, senders: ReadonlySet<string>): Promise<MinedTransaction[]> {
  const head = Number((await rpcBatch(stack.rpcUrl, [{ method: 'eth_blockNumber', params: [] }]))[0]);
  const found: MinedTransaction[] = [];
  for (let from = stack.startBlock; from <= head; from += BLOCKS_PER_BATCH) {
    const numbers = Array.from({ length: Math.min(BLOCKS_PER_BATCH, head - from + 1) }, (_, i) => from + i);
    const blocks = (await rpcBatch(
      stack.rpcUrl,
      numbers.map((number) => ({ method: 'eth_getBlockByNumber', params: [`0x${number.toString(16)}`, true] })),
    )) as Array<{ number: string; transactions: Array<{ hash: string; from: string; nonce: string }> } | null>;
    for (const block of blocks) {
      for (const tx of block?.transactions ?? []) {
        if (senders.has(tx.from.toLowerCase()))
          found.push({ hash: tx.hash.toLowerCase(), from: tx.from.toLowerCase(), nonce: Number(tx.nonce), blockNumber: Number(block!.number) });
      }
    }
  }
  return found;
}

const BLOCKS_PER_BATCH = 100;

/** Whether a failure reason names a transaction ("the sweep 0x… reverted") whose receipt on the final chain says it reverted. */
async function revertedOnTheFinalChain(rpcUrl: string, reason: string | null): Promise<boolean> {
  const hash = /^the (?:sweep|gas top-up) (0x[0-9a-f]{64}) reverted$/.exec(reason ?? '')?.[1];
  if (!hash) return false;
  const [receipt] = (await rpcBatch(rpcUrl, [{ method: 'eth_getTransactionReceipt', params: [hash] }])) as Array<{ status: string } | null>;
  return receipt?.status === '0x0';
}

/** JSON-RPC calls in one batch (none: no request); throws on any error answer. */
export async function rpcBatch(rpcUrl: string, calls: Array<{ method: string; params: unknown[] }>): Promise<unknown[]> {
  if (calls.length === 0) return [];
  const response = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(calls.map((call, id) => ({ jsonrpc: '2.0', id, ...call }))),
    signal: AbortSignal.timeout(30_000),
  });
  const answers = (await response.json()) as Array<{ id: number; result?: unknown; error?: { message: string } }>;
  return calls.map((call, id) => {
    const answer = answers.find((candidate) => candidate.id === id);
    if (!answer || answer.error) throw new Error(`${call.method}: ${answer?.error?.message ?? 'no answer'}`);
    return answer.result;
  });
}
