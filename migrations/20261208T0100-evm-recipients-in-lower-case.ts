import { sql, type Kysely } from 'kysely';

/**
 * The EVM scan matches recipients in lower case, as nodes write them (src/chains/evm/addresses.ts):
 * EIP-55's mixed case, the form inflow stores, costs a keccak per address, which in blocks full of
 * transfers was most of a round's CPU. These indexes let the watcher's recipient query
 * (chains.repository ownersByAddress) find stored addresses by their lower-case form.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index customer_addresses_evm_lower_idx on customer_addresses (lower(address)) where family = 'evm'`.execute(db);
  await sql`create index orders_evm_lower_idx on orders (lower(address)) where family = 'evm'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('orders_evm_lower_idx').execute();
  await db.schema.dropIndex('customer_addresses_evm_lower_idx').execute();
}
