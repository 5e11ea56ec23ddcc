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
