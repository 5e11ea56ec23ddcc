import { sql } from 'kysely';
import type { Executor } from '../db/database';
import type { NodeStatus } from './failover';
import type { Deposit } from '../deposits/deposits.table';

export interface Cursor {
  nextBlock: number;
  head: number;
  /** The hash of block nextBlock − 1 when it was scanned. */
  lastBlockHash: string | null;
  /** When that block was made, on the chain's clock. */
  lastBlockTime: Date | null;
}

export async function findCursor(db: Executor, livemode: boolean, network: string): Promise<Cursor | undefined> {
  const row = await db.selectFrom('chain_cursors').selectAll().where('livemode', '=', livemode).where('network', '=', network).executeTakeFirst();
  return row
    ? { nextBlock: Number(row.next_block), head: Number(row.head), lastBlockHash: row.last_block_hash, lastBlockTime: row.last_block_time }
    : undefined;
}

export async function saveCursor(
  db: Executor,
  livemode: boolean,
  network: string,
  nextBlock: number,
  head: number,
  lastBlockHash: string | null = null,
  lastBlockTime: Date | null = null,
  nodes: NodeStatus[] | null = null,
): Promise<void> {
  const values = {
    next_block: BigInt(nextBlock),
    head: BigInt(head),
    last_block_hash: lastBlockHash,
    last_block_time: lastBlockTime,
    nodes: nodes && JSON.stringify(nodes),
  };
  await db
    .insertInto('chain_cursors')
    .values({ livemode, network, ...values })
    .onConflict((oc) => oc.columns(['livemode', 'network']).doUpdateSet({ ...values, updated_at: new Date() }))
    .execute();
}

/** Every watcher's position: the block it scans next and the head it last saw. */
export async function listCursors(db: Executor) {
  return db.selectFrom('chain_cursors').selectAll().orderBy('livemode').orderBy('network').execute();
}

/** Who owns an address that received a transfer: a customer, or an order (possibly made for a customer). */
export interface AddressOwner {
  /** As stored (EIP-55 on EVM networks). */
  address: string;
  /** As recipients are matched: lower case on EVM networks (evm/addresses.ts), as stored on Tron (base58 is case-sensitive). */
  match: string;
  merchant_id: string;
  customer_id: string | null;
  order_id: string | null;
}

/** An address in the form recipients are matched in (AddressOwner.match): lower case on EVM networks. */
export function matchForm(family: string, address: string): string {
  return family === 'evm' ? address.toLowerCase() : address;
}

/**
 * Which of `addresses` belong to customers or orders of this mode and family: one statement, with
 * the recipients sent once as an array parameter however many a range holds, looked up by index
 * in both tables. Archived customers are owners like any other: archiving hides a customer from
 * lists, and money sent to its address is still credited. EVM recipients match in any case, by
 * the (family, lower(address)) indexes (migration 20261208T0100); Tron's as written.
 */
export async function ownersByAddress(db: Executor, livemode: boolean, family: string, addresses: string[]): Promise<AddressOwner[]> {
  if (addresses.length === 0) return [];
  // The family as a literal, so the plan is made for it (evm: the (family, lower(address)) indexes).
  const [matchOf, recipient] = family === 'evm' ? [(column: string) => sql`lower(${sql.ref(column)})`, sql`lower(a)`] : [sql.ref, sql`a`];
  const { rows } = await sql<AddressOwner>`
    with recipients as (select distinct ${recipient} as address from unnest(${addresses}::text[]) as a)
    select c.address, r.address as match, c.merchant_id, c.customer_id, null::text as order_id
      from customer_addresses c join recipients r on ${matchOf('c.address')} = r.address
     where c.livemode = ${livemode} and c.family = ${sql.lit(family)}
    union all
    select o.address, r.address as match, o.merchant_id, o.customer_id, o.id as order_id
      from orders o join recipients r on ${matchOf('o.address')} = r.address
     where o.livemode = ${livemode} and o.family = ${sql.lit(family)}`.execute(db);
  return rows;
}

/**
 * The deposits a watcher reports on each round: those not final yet, those completed within the
 * reversal window (a reorg would reverse them), and those that timed out or that a reorg took
 * away within the late-money window (their confirmations may still come; their transaction may
 * be mined again).
 */
export async function watchedDeposits(
  db: Executor,
  livemode: boolean,
  network: string,
  windows: { reversalWindowMs: number; lateMoneyWindowMs: number },
): Promise<Deposit[]> {
  return db
    .selectFrom('deposits')
    .selectAll()
    .where('livemode', '=', livemode)
    .where('network', '=', network)
    .where('simulated', '=', false)
    .where((eb) =>
      eb.or([
        eb('status', 'in', ['detected', 'confirming']),
        eb.and([eb('status', '=', 'completed'), eb('completed_at', '>', sql<Date>`now() - make_interval(secs => ${windows.reversalWindowMs / 1000})`)]),
        eb.and([
          eb('status', '=', 'failed'),
          eb('failure_reason', 'in', ['timeout', 'reorg']),
          eb('updated_at', '>', sql<Date>`now() - make_interval(secs => ${windows.lateMoneyWindowMs / 1000})`),
        ]),
      ]),
    )
    .execute();
}

/** When the first deposit address in the mode was made (a customer's or an order's), if any was. */
export async function firstAddressCreatedAt(db: Executor, livemode: boolean): Promise<Date | null> {
  const [customers, orders] = await Promise.all([
    db
      .selectFrom('customers')
      .select((eb) => eb.fn.min('created_at').as('first'))
      .where('livemode', '=', livemode)
      .executeTakeFirstOrThrow(),
    db
      .selectFrom('orders')
      .select((eb) => eb.fn.min('created_at').as('first'))
      .where('livemode', '=', livemode)
      .executeTakeFirstOrThrow(),
  ]);
  const times = [customers.first, orders.first].filter((time): time is Date => time !== null);
  return times.length === 0 ? null : new Date(Math.min(...times.map((time) => time.getTime())));
}

/** The deposits already recorded for transfers of these transactions on this chain and mode. */
export async function depositsOfTransactions(db: Executor, livemode: boolean, network: string, transactionHashes: string[]): Promise<Deposit[]> {
  if (transactionHashes.length === 0) return [];
  return db
    .selectFrom('deposits')
    .selectAll()
    .where('livemode', '=', livemode)
    .where('network', '=', network)
    .where('transaction_hash', 'in', [...new Set(transactionHashes)])
    .orderBy('log_index')
    .execute();
}
