import { sql, type Kysely } from 'kysely';

/**
 * Repairs what an older bookHoldings could leave: a holdings transaction committed without its
 * entries (its process killed between the two statements; they are one now). For a deposit or a
 * reversal that is always a loss, as neither moves zero: the transaction is deleted, and the next
 * catch-up (catchUpDepositHoldings, before every sweep plan and reconciliation) books it again from
 * the merchant ledger. Other kinds may cost nothing (Tron's lent energy) and cannot be told apart:
 * reconciliation reports what they left out as a difference.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    delete from holdings_transactions h
     where h.kind in ('deposit', 'reversal')
       and not exists (select 1 from holdings_entries e where e.transaction_id = h.id)`.execute(db);
}

export async function down(): Promise<void> {
  // Nothing to undo: the deleted transactions held no entries, and catch-up has booked them again.
}
