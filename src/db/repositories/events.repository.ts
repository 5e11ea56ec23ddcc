import { sql } from 'kysely';
import type { Executor } from '../database';
import type { Event } from '../tables/events.table';

export async function insertEvent(
  db: Executor,
  event: { id: string; merchant_id: string; livemode: boolean; type: string; data: Record<string, unknown> },
): Promise<Event> {
  return db
    .insertInto('events')
    .values({ ...event, data: JSON.stringify(event.data) })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** The id of the event of `type` that a deposit emitted, if it did. */
export async function findDepositEventId(db: Executor, deposit: { id: string; merchant_id: string; livemode: boolean }, type: string): Promise<string | null> {
  const event = await db
    .selectFrom('events')
    .select('id')
    .where('merchant_id', '=', deposit.merchant_id)
    .where('livemode', '=', deposit.livemode)
    .where('type', '=', type)
    .where(sql<boolean>`data->>'id' = ${deposit.id}`)
    .executeTakeFirst();
  return event?.id ?? null;
}
