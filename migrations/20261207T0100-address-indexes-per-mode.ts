import { sql, type Kysely } from 'kysely';

/**
 * Address indexes per mode. Customers' and orders' HD indexes came from two global sequences that
 * test and live shared, so free test-mode creations used up live's 2^31 indexes. Each mode now has
 * its own sequence per branch, and an index is unique per (livemode, address_account,
 * address_index): `address_account` names the BIP-44 account (m/44'/coin'/account') whose xpub
 * derived the address, 0 for every address so far. When an account's 2^31 indexes are used up, a
 * second account (its own xpub and sequences) can continue without two rows meaning one address.
 *
 * Existing rows keep their index and address. Both modes' new sequences continue after the highest
 * index the branch ever gave out, in either mode (the stored rows' and the old global sequence's
 * last value): continuing each mode after its own highest would hand live the indexes test had
 * used, and an operator may configure the same xpub for both modes (nothing forbids it), so such an
 * index derives an address that exists already and the global unique (family, address) refuses the
 * create. Branches differ (customers …/0/i, orders …/1/i), so each branch counts its own indexes.
 *
 * The unique index is built over the whole table: `npm run migrate` connects without the request
 * path's statement timeout (src/db/database.ts), as a large table may take longer than it.
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
    // The highest index given out so far: the old sequence's last value once called (an index it
    // gave to a request that rolled back is skipped too), and the stored rows' highest in any mode.
    const { rows } = await sql<{ highest: number | null }>`
      select greatest(
        (select max(address_index) from ${sql.table(branch.table)}),
        (select case when is_called then last_value end from ${sql.table(branch.global)})
      )::integer as highest`.execute(db);
    const highest = rows[0]?.highest ?? null;
    for (const mode of ['test', 'live'] as const) {
      const sequence = `${branch.prefix}_${mode}_seq`;
      await sql`create sequence ${sql.id(sequence)} minvalue 0 start 0 maxvalue ${sql.lit(MAX_INDEX)}`.execute(db);
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
