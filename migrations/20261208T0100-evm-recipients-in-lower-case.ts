import { sql, type Kysely } from 'kysely';

/**
 * The EVM scan matches recipients in lower case, as nodes write them (src/chains/evm/addresses.ts):
 * EIP-55's mixed case, the form inflow stores, costs a keccak per address, which in blocks full of
 * transfers was most of a round's CPU. These indexes let the watcher's recipient query
 * (chains.repository ownersByAddress) find stored addresses by their lower-case form. Not partial
 * (`where family = 'evm'`), though Tron's rows need no such entry: the planner takes no statistics
 * from a partial index, guessed that each recipient matched 1/200 of the table, and read all of it
 * (a hash join, 670 ms a round at 1e6 addresses, against 50 ms through the index).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index customer_addresses_lower_address_idx on customer_addresses (family, lower(address))`.execute(db);
  await sql`create index orders_lower_address_idx on orders (family, lower(address))`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('orders_lower_address_idx').execute();
  await db.schema.dropIndex('customer_addresses_lower_address_idx').execute();
}
