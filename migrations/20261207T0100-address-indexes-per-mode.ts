import { sql, type Kysely } from 'kysely';

/**
 * Address indexes per mode. Customers' and orders' HD indexes came from two global sequences that
 * test and live shared, so free test-mode creations used up live's 2^31 indexes. Each mode now has
 * its own sequence per branch, and an index is unique per (livemode, address_account,
 * address_index): `address_account` names the BIP-44 account (m/44'/coin'/account') whose xpub
 * derived the address, 0 for every address so far. When an account's 2^31 indexes are used up, a
 * second account (its own xpub and sequences) can continue without two rows meaning one address.
 *
 * Existing rows keep their index and address; each new sequence continues after the highest index
 * of its mode, so no stored address is ever derived again for a new row.
 */
const branches = [
  { table: 'customers', global: 'customer_address_index_seq', prefix: 'customer_address_index' },
  { table: 'orders', global: 'order_address_index_seq', prefix: 'order_address_index' },
] as const;
const MAX_INDEX = 2147483647;

export async function up(db: Kysely<any>): Promise<void> {
  for (const branch of branches) {
    await db.schema
      .alterTable(branch.table)
      .addColumn('address_account', 'integer', (col) => col.notNull().defaultTo(0).check(sql`address_account >= 0`))
      .execute();
    // Postgres named the column's unique constraint <table>_address_index_key.
    await db.schema.alterTable(branch.table).dropConstraint(`${branch.table}_address_index_key`).execute();
    await db.schema
      .createIndex(`${branch.table}_address_index_key`)
      .on(branch.table)
      .columns(['livemode', 'address_account', 'address_index'])
      .unique()
      .execute();
    for (const mode of ['test', 'live'] as const) {
      const sequence = `${branch.prefix}_${mode}_seq`;
      await sql`create sequence ${sql.id(sequence)} minvalue 0 start 0 maxvalue ${sql.lit(MAX_INDEX)}`.execute(db);
      const { rows } = await sql<{ highest: number | null }>`
        select max(address_index) as highest from ${sql.table(branch.table)} where livemode = ${mode === 'live'}`.execute(db);
      const highest = rows[0]?.highest ?? null;
      // Called with the highest itself when it is the last index: the next nextval then fails, as the full space should.
      if (highest !== null) await sql`select setval(${sql.lit(sequence)}, ${sql.lit(Math.min(highest + 1, MAX_INDEX))}, ${sql.lit(highest === MAX_INDEX)})`.execute(db);
    }
    await sql`drop sequence ${sql.id(branch.global)}`.execute(db);
  }
}

/** Back to one global sequence per branch; refused (by the unique constraint) once test and live share an index. */
export async function down(db: Kysely<any>): Promise<void> {
  for (const branch of branches) {
    const { rows } = await sql<{ next: number }>`select coalesce(max(address_index) + 1, 0) as next from ${sql.table(branch.table)}`.execute(db);
    await sql`create sequence ${sql.id(branch.global)} minvalue 0 start ${sql.lit(Math.min(rows[0]!.next, MAX_INDEX))} maxvalue ${sql.lit(MAX_INDEX)}`.execute(db);
    for (const mode of ['test', 'live'] as const) await sql`drop sequence ${sql.id(`${branch.prefix}_${mode}_seq`)}`.execute(db);
    await db.schema.dropIndex(`${branch.table}_address_index_key`).execute();
    await db.schema.alterTable(branch.table).addUniqueConstraint(`${branch.table}_address_index_key`, ['address_index']).execute();
    await db.schema.alterTable(branch.table).dropColumn('address_account').execute();
  }
}
