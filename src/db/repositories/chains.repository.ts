import { sql } from 'kysely';
import type { Executor } from '../database';
import type { Deposit } from '../tables/deposits.table';

export interface Cursor {
  nextBlock: number;
  head: number;
  /** The hash of block nextBlock − 1 when it was scanned. */
  lastBlockHash: string | null;
}

export async function findCursor(db: Executor, livemode: boolean, network: string): Promise<Cursor | undefined> {
  const row = await db.selectFrom('chain_cursors').selectAll().where('livemode', '=', livemode).where('network', '=', network).executeTakeFirst();
  return row ? { nextBlock: Number(row.next_block), head: Number(row.head), lastBlockHash: row.last_block_hash } : undefined;
}

export async function saveCursor(
  db: Executor,
  livemode: boolean,
  network: string,
  nextBlock: number,
  head: number,
  lastBlockHash: string | null = null,
): Promise<void> {
  const values = { next_block: BigInt(nextBlock), head: BigInt(head), last_block_hash: lastBlockHash };
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
  address: string;
  merchant_id: string;
  customer_id: string | null;
  order_id: string | null;
}

/**
 * Which of `addresses` belong to customers or orders of this mode and family: one statement, with
 * the recipients sent once as an array parameter however many a range holds, looked up by index
 * in both tables.
 */
export async function ownersByAddress(db: Executor, livemode: boolean, family: string, addresses: string[]): Promise<AddressOwner[]> {
  if (addresses.length === 0) return [];
  const { rows } = await sql<AddressOwner>`
    with recipients as (select distinct unnest(${addresses}::text[]) as address)
    select c.address, c.merchant_id, c.customer_id, null::text as order_id
      from customer_addresses c join recipients r on c.address = r.address
     where c.livemode = ${livemode} and c.family = ${family}
    union all
    select o.address, o.merchant_id, o.customer_id, o.id as order_id
      from orders o join recipients r on o.address = r.address
     where o.livemode = ${livemode} and o.family = ${family}`.execute(db);
  return rows;
}

/** Deposits on this chain that still listen for confirmations or reorgs. */
export async function watchedDeposits(db: Executor, livemode: boolean, network: string, reversalWindowMs: number): Promise<Deposit[]> {
  return db
    .selectFrom('deposits')
    .selectAll()
    .where('livemode', '=', livemode)
    .where('network', '=', network)
    .where('simulated', '=', false)
    .where((eb) =>
      eb.or([
        eb('status', 'in', ['detected', 'confirming']),
        eb.and([eb('status', '=', 'completed'), eb('completed_at', '>', sql<Date>`now() - make_interval(secs => ${reversalWindowMs / 1000})`)]),
      ]),
    )
    .execute();
}
