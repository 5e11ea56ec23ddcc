import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // The transactional outbox: a workflow start written in the same transaction as the rows it will
  // read, handed to Temporal by the relay in every worker, then deleted. The workflow id is the key,
  // so the same start queued twice is one row, and Temporal refuses a second run of that id.
  await db.schema
    .createTable('workflow_outbox')
    .addColumn('workflow_id', 'text', (col) => col.primaryKey())
    .addColumn('workflow_type', 'text', (col) => col.notNull())
    .addColumn('args', 'jsonb', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    // Not before: a relay that claims a row leases it until then, and a failed start backs off.
    .addColumn('available_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .execute();
  await db.schema.createIndex('workflow_outbox_available_idx').on('workflow_outbox').columns(['available_at']).execute();
  // Wakes the relays at commit (NOTIFY is transactional), so a start waits for no poll interval.
  await sql`
    create function workflow_outbox_notify() returns trigger language plpgsql as $$
    begin
      perform pg_notify('workflow_outbox', '');
      return null;
    end $$
  `.execute(db);
  await sql`create trigger workflow_outbox_notify after insert on workflow_outbox for each statement execute function workflow_outbox_notify()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('workflow_outbox').execute();
  await sql`drop function workflow_outbox_notify()`.execute(db);
}
