/**
 * The oracle: what inflow should have credited, read from the FINAL canonical chains directly from
 * anvil and from the Tron stand-in (never through the fault proxies; tron-chain.ts reads Tron's),
 * against what it did credit on both networks, read from its database and its API. It judges
 * outcomes only, never how inflow got there.
 *
 * Deposits are matched to chain transfers by CONTENT within each transaction: (tx hash, currency,
 * recipient, amount), as a multiset (a batch may hold the same transfer twice), never by
 * log_index, whose meaning is inflow's own business. Per content key, with c transfers on the chain:
 *
 *   lost              fewer than c completed deposits (and none still in flight to make up for it)
 *   doubled           more than c completed deposits where c > 0
 *   wrongly credited  completed deposits where c = 0: a transfer the final chain does not have (a
 *                     reorged-away transaction, a re-mine that reverted or paid less, a phantom)
 *   stuck             a deposit still detected or confirming after the run settled
 *   ledger            an unbalanced ledger transaction; a deposit whose booked amount is not its
 *                     amount when completed and 0 otherwise; GET /balance not the completed nets
 */
import { sql } from 'kysely';
import { TRANSFER_TOPIC } from '../../src/chains/evm/evm.adapter';
import type { Db } from '../../src/db/database';
import { defaultDustThresholds, dustThreshold } from '../../src/domain/dust';
import { formatAmount, parseAmount } from '../../src/domain/money';
import { currencyOn, isNetwork } from '../../src/domain/networks';
import type { Devnet, RpcTransaction } from './devnet';
import { payerInterface, type Contracts } from './load';
import { finalTronTransfers, type TronNode } from './tron-chain';
import type { ChainTransfer } from './chain-transfer';

export interface DepositRow {
  id: string;
  status: string;
  failure_reason: string | null;
  reversed_at: Date | null;
  currency: string;
  network: string;
  address: string;
  transaction_hash: string;
  log_index: number;
  amount: string;
  net_amount: string | null;
}

export type FindingKind = 'lost' | 'doubled' | 'wrong' | 'stuck' | 'ledger';

export interface Finding {
  kind: FindingKind;
  /** The transaction it concerns, when it concerns one (for attribution). */
  txHash: string | undefined;
  /** How many transfers (or deposits) it counts for. */
  count: number;
  what: string;
}

export interface OracleInput {
  devnet: Devnet;
  db: Db;
  merchantId: string;
  apiBaseUrl: string;
  testKey: string;
  contracts: Contracts;
  startBlock: number;
  customerAddresses: string[];
  /** The Tron stand-in, when the run drives it: read straight from it. */
  tron?: { node: TronNode; usdtAddress: string; startBlock: number; customerAddresses: string[] };
}

export interface OracleResult {
  head: number;
  transfers: ChainTransfer[];
  deposits: DepositRow[];
  findings: Finding[];
}

const PENDING = new Set(['detected', 'confirming']);

export async function judge(input: OracleInput): Promise<OracleResult> {
  const { head, transfers } = await finalChainTransfers(input);
  if (input.tron) transfers.push(...(await finalTronTransfers(input.tron.node, input.tron.usdtAddress, input.tron.startBlock, input.tron.customerAddresses)));
  const deposits = await chainDeposits(input.db, input.merchantId);
  const findings = [...matchTransfers(transfers, deposits), ...(await ledgerFindings(input, deposits))];
  return { head, transfers, deposits, findings };
}

/**
 * Every transfer of money to a customer's address on the final chain from `startBlock` to the
 * head: USDT Transfer logs of successful receipts, successful native transactions, and the
 * ConditionalPayer's forwarded coin (the `contract-eth` hook). Zero amounts move nothing and are left out.
 */
export async function finalChainTransfers(input: Pick<OracleInput, 'devnet' | 'contracts' | 'startBlock' | 'customerAddresses'>): Promise<{
  head: number;
  transfers: ChainTransfer[];
}> {
  const { devnet, contracts } = input;
  const customers = new Set(input.customerAddresses.map((address) => address.toLowerCase()));
  const usdt = contracts.usdt.toLowerCase();
  const conditionalPayer = contracts.conditionalPayer.toLowerCase();
  const forwardEth = payerInterface.getFunction('forwardEth')!.selector;
  const head = await devnet.head();
  const transfers: ChainTransfer[] = [];
  for (let number = input.startBlock; number <= head; number++) {
    const block = await devnet.blockWithTransactions(number);
    const receipts = await Promise.all(block.transactions.map((tx: RpcTransaction) => devnet.receipt(tx.hash)));
    block.transactions.forEach((tx, i) => {
      const receipt = receipts[i];
      if (receipt?.status !== '0x1') return;
      const txHash = tx.hash.toLowerCase();
      const to = tx.to?.toLowerCase();
      const value = BigInt(tx.value);
      if (to && customers.has(to) && value > 0n)
        transfers.push({ network: 'ethereum', txHash, currency: 'ETH', to, amount: value, blockNumber: number, via: 'native' });
      if (to === conditionalPayer && tx.input.startsWith(forwardEth) && value > 0n) {
        const [recipient] = payerInterface.decodeFunctionData('forwardEth', tx.input) as unknown as [string];
        if (customers.has(recipient.toLowerCase()))
          transfers.push({ network: 'ethereum', txHash, currency: 'ETH', to: recipient.toLowerCase(), amount: value, blockNumber: number, via: 'internal' });
      }
      for (const log of receipt.logs) {
        if (log.address.toLowerCase() !== usdt || log.topics[0] !== TRANSFER_TOPIC || log.topics.length !== 3) continue;
        const recipient = `0x${log.topics[2]!.slice(26)}`.toLowerCase();
        const amount = BigInt(log.data);
        if (customers.has(recipient) && amount > 0n)
          transfers.push({ network: 'ethereum', txHash, currency: 'USDT', to: recipient, amount, blockNumber: number, via: 'log' });
      }
    });
  }
  return { head, transfers };
}

export async function chainDeposits(db: Db, merchantId: string): Promise<DepositRow[]> {
  const { rows } = await sql<DepositRow>`
    select id, status, failure_reason, reversed_at, currency, network, address, transaction_hash, log_index,
           amount::text as amount, net_amount::text as net_amount
    from deposits
    where merchant_id = ${merchantId} and livemode = false and simulated = false and network in ('ethereum', 'tron')
    order by created_at, id`.execute(db);
  return rows;
}

export function contentKey(transfer: { txHash: string; currency: string; to: string; amount: bigint | string }): string {
  return `${transfer.txHash.toLowerCase()}|${transfer.currency}|${transfer.to.toLowerCase()}|${transfer.amount.toString()}`;
}

const depositKey = (deposit: DepositRow) =>
  contentKey({ txHash: deposit.transaction_hash, currency: deposit.currency, to: deposit.address, amount: deposit.amount });

/** Chain transfers against deposits, per content key (a multiset within each transaction). */
export function matchTransfers(transfers: ChainTransfer[], deposits: DepositRow[]): Finding[] {
  const onChain = new Map<string, ChainTransfer[]>();
  for (const transfer of transfers) onChain.set(contentKey(transfer), [...(onChain.get(contentKey(transfer)) ?? []), transfer]);
  const recorded = new Map<string, DepositRow[]>();
  for (const deposit of deposits) recorded.set(depositKey(deposit), [...(recorded.get(depositKey(deposit)) ?? []), deposit]);

  const findings: Finding[] = [];
  for (const deposit of deposits) {
    if (PENDING.has(deposit.status))
      findings.push({
        kind: 'stuck',
        txHash: deposit.transaction_hash,
        count: 1,
        what: `deposit ${deposit.id} (${describeDeposit(deposit)}) is still ${deposit.status}`,
      });
  }
  // Dust is told by amount alone: below its currency's default threshold a deposit must be `dust`, at or above it never.
  for (const deposit of deposits) {
    const decimals = currencyOn(deposit.network === 'tron' ? 'tron' : 'ethereum', deposit.currency)?.decimals ?? 0;
    const isDust = BigInt(deposit.amount) < dustThreshold(defaultDustThresholds, deposit.currency, decimals);
    if (isDust === (deposit.status === 'dust') || (isDust && deposit.status !== 'completed' && !PENDING.has(deposit.status))) continue;
    findings.push({
      kind: isDust ? 'wrong' : 'lost',
      txHash: deposit.transaction_hash,
      count: 1,
      what: `deposit ${deposit.id} (${describeDeposit(deposit)}) is ${statusOf(deposit)}: ${isDust ? 'dust must be recorded as dust' : 'it is above the dust threshold'}`,
    });
  }
  for (const key of new Set([...onChain.keys(), ...recorded.keys()])) {
    const chain = onChain.get(key) ?? [];
    const rows = recorded.get(key) ?? [];
    const completed = rows.filter((deposit) => deposit.status === 'completed');
    // A transfer below the dust threshold is accounted for by its `dust` row, which credits nothing:
    // a dust row whose transfer a reorg took away is a stale record, not money.
    const dust = rows.filter((deposit) => deposit.status === 'dust');
    const pending = rows.filter((deposit) => PENDING.has(deposit.status));
    const [txHash, currency, to, amount] = key.split('|') as [string, string, string, string];
    const transfer = `${inUnits(BigInt(amount), currency, txHash)} to ${to} in ${txHash}`;
    const outcome = rows.length === 0 ? 'never detected' : `deposits: ${rows.map((row) => `${row.id} ${statusOf(row)}`).join(', ')}`;
    const lost = chain.length - completed.length - dust.length - pending.length;
    if (lost > 0)
      findings.push({
        kind: 'lost',
        txHash,
        count: lost,
        what: `${lost > 1 ? `${lost}× ` : ''}transfer of ${transfer} (block ${chain[0]!.blockNumber}${chain[0]!.via === 'log' ? '' : `, ${chain[0]!.via}`}) not credited (${outcome})`,
      });
    if (chain.length > 0 && completed.length + dust.length > chain.length && completed.length <= chain.length) {
      findings.push({
        kind: 'doubled',
        txHash,
        count: completed.length + dust.length - chain.length,
        what: `transfer of ${transfer} on the chain ${chain.length}× but recorded ${completed.length + dust.length}× (${outcome})`,
      });
    }
    if (completed.length > chain.length) {
      const extra = completed.length - chain.length;
      const moved = onChainIn(onChain, txHash);
      findings.push(
        chain.length > 0
          ? {
              kind: 'doubled',
              txHash,
              count: extra,
              what: `transfer of ${transfer} on the chain ${chain.length}× but credited ${completed.length}× (${outcome})`,
            }
          : {
              kind: 'wrong',
              txHash,
              count: extra,
              what: `${transfer} credited ${extra}× but the final chain has no such transfer${moved ? `; that transaction moved ${moved}` : ''} (${outcome})`,
            },
      );
    }
  }
  return findings;
}

/** What the final chain has for a transaction, for a wrongly credited deposit's message. */
function onChainIn(onChain: Map<string, ChainTransfer[]>, txHash: string): string | undefined {
  const moved = [...onChain.values()].flat().filter((transfer) => transfer.txHash === txHash);
  return moved.length === 0
    ? undefined
    : moved.map((transfer) => `${inUnits(transfer.amount, transfer.currency, transfer.txHash)} to ${transfer.to}`).join(', ');
}

/** "25.5 USDT" from base units (a Tron txID has no 0x). */
function inUnits(amount: bigint, currency: string, txHash = '0x'): string {
  return `${formatAmount(amount, currencyOn(txHash.startsWith('0x') ? 'ethereum' : 'tron', currency)?.decimals ?? 0)} ${currency}`;
}

function statusOf(deposit: DepositRow): string {
  if (deposit.status === 'failed' && deposit.reversed_at) return 'reversed';
  return deposit.failure_reason ? `${deposit.status} (${deposit.failure_reason})` : deposit.status;
}

function describeDeposit(deposit: DepositRow): string {
  return `${inUnits(BigInt(deposit.amount), deposit.currency, deposit.transaction_hash)} to ${deposit.address} in ${deposit.transaction_hash}`;
}

/** The ledger's own arithmetic, per transaction and per deposit, and the balance the API shows. */
async function ledgerFindings(input: OracleInput, deposits: DepositRow[]): Promise<Finding[]> {
  const findings: Finding[] = [];
  const { rows: entries } = await sql<{ transaction_id: string; deposit_id: string; account: string; currency: string; amount: string }>`
    select t.id as transaction_id, t.deposit_id, e.account, e.currency, e.amount::text as amount
    from ledger_transactions t join ledger_entries e on e.transaction_id = t.id
    where t.merchant_id = ${input.merchantId} and t.livemode = false`.execute(input.db);

  const perTransaction = new Map<string, bigint>();
  const received = new Map<string, bigint>();
  for (const entry of entries) {
    const key = `${entry.transaction_id} in ${entry.currency}`;
    perTransaction.set(key, (perTransaction.get(key) ?? 0n) + BigInt(entry.amount));
    if (entry.account === 'customer_deposits') received.set(entry.deposit_id, (received.get(entry.deposit_id) ?? 0n) - BigInt(entry.amount));
  }
  for (const [key, sum] of perTransaction) {
    if (sum !== 0n)
      findings.push({ kind: 'ledger', txHash: undefined, count: 1, what: `ledger transaction ${key} does not balance: its entries sum to ${sum}` });
  }
  for (const deposit of deposits) {
    const booked = received.get(deposit.id) ?? 0n;
    const expected = deposit.status === 'completed' ? BigInt(deposit.amount) : 0n;
    if (booked !== expected)
      findings.push({
        kind: 'ledger',
        txHash: deposit.transaction_hash,
        count: 1,
        what: `deposit ${deposit.id} is ${statusOf(deposit)} but the ledger has ${booked} booked for it (expected ${expected})`,
      });
  }

  const response = await fetch(`${input.apiBaseUrl}/api/v1/balance`, {
    headers: { Authorization: `Bearer ${input.testKey}` },
    signal: AbortSignal.timeout(30_000),
  });
  if (response.status !== 200) {
    findings.push({ kind: 'ledger', txHash: undefined, count: 1, what: `GET /api/v1/balance answered ${response.status}` });
    return findings;
  }
  const balance = (await response.json()) as { by_currency: Array<{ network: string; currency: string; net: string }> };
  const expected = new Map<string, bigint>();
  for (const deposit of deposits) {
    if (deposit.status !== 'completed') continue;
    const key = `${deposit.network}/${deposit.currency}`;
    expected.set(key, (expected.get(key) ?? 0n) + BigInt(deposit.net_amount ?? '0'));
  }
  const shown = new Map<string, bigint>();
  for (const row of balance.by_currency) {
    const decimals = (isNetwork(row.network) && currencyOn(row.network, row.currency)?.decimals) || 0;
    shown.set(`${row.network}/${row.currency}`, parseAmount(row.net, decimals));
  }
  for (const key of new Set([...expected.keys(), ...shown.keys()])) {
    const want = expected.get(key) ?? 0n;
    const got = shown.get(key) ?? 0n;
    if (want !== got)
      findings.push({
        kind: 'ledger',
        txHash: undefined,
        count: 1,
        what: `GET /balance shows net ${got} for ${key}; the completed deposits' nets sum to ${want}`,
      });
  }
  return findings;
}
