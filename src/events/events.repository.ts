import type { ListWindow } from '../api/pagination';
import { sql } from 'kysely';
import type { EventType } from '../domain/events';
import type { Executor, Tenant } from '../db/database';
import type { Event } from './events.table';

export async function insertEvent(
  db: Executor,
  event: { id: string; merchant_id: string; livemode: boolean; type: EventType; data: Record<string, unknown> },
): Promise<Event> {
  return db
    .insertInto('events')
    .values({ ...event, data: JSON.stringify(event.data) })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** The id of the event of `type` that an object (a deposit, an order) emitted, if it did. */
export async function findObjectEventId(db: Executor, object: { id: string; merchant_id: string; livemode: boolean }, type: EventType): Promise<string | null> {
  const event = await db
    .selectFrom('events')
    .select('id')
    .where('merchant_id', '=', object.merchant_id)
    .where('livemode', '=', object.livemode)
    .where('type', '=', type)
    .where(sql<boolean>`data->>'id' = ${object.id}`)
    // The newest: a deposit re-opened after a reorg emits its events again.
    .orderBy('id', 'desc')
    .executeTakeFirst();
  return event?.id ?? null;
}

export async function findEventById(db: Executor, id: string): Promise<Event | undefined> {
  return db.selectFrom('events').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findEvent(db: Executor, tenant: Tenant, id: string): Promise<Event | undefined> {
  return db
    .selectFrom('events')
    .selectAll()
    .where('id', '=', id)
    .where('merchant_id', '=', tenant.merchantId)
    .where('livemode', '=', tenant.livemode)
    .executeTakeFirst();
}

export async function listEvents(
  db: Executor,
  tenant: Tenant,
  filters: { types?: readonly string[] | undefined; objectId?: string | undefined },
  page: ListWindow,
): Promise<Event[]> {
  let query = db
    .selectFrom('events')
    .selectAll()
    .where('merchant_id', '=', tenant.merchantId)
    .where('livemode', '=', tenant.livemode)
    .orderBy('id', 'desc')
    .limit(page.limit);
  if (filters.types) query = query.where('type', 'in', filters.types);
  // events_object_history_idx (merchant, mode, data->>'id', id) serves this.
  if (filters.objectId) query = query.where(sql<string>`data->>'id'`, '=', filters.objectId);
  if (page.startingAfter) query = query.where('id', '<', page.startingAfter);
  if (page.createdFrom) query = query.where('created_at', '>=', page.createdFrom);
  if (page.createdBefore) query = query.where('created_at', '<', page.createdBefore);
  return query.execute();
}

/** The ids of the tenant's events after `afterId` (of `types` when given), oldest first, at most `limit`: what an event stream polls. */
export async function eventIdsAfter(
  db: Executor,
  tenant: Tenant,
  filters: { afterId: string; types?: readonly string[] | undefined; limit: number },
): Promise<string[]> {
  let query = db
    .selectFrom('events')
    .select('id')
    .where('merchant_id', '=', tenant.merchantId)
    .where('livemode', '=', tenant.livemode)
    .where('id', '>', filters.afterId)
    .orderBy('id')
    .limit(filters.limit);
  if (filters.types) query = query.where('type', 'in', filters.types);
  return (await query.execute()).map((row) => row.id);
}

export async function findEventsByIds(db: Executor, tenant: Tenant, ids: readonly string[]): Promise<Event[]> {
  if (ids.length === 0) return [];
  return db
    .selectFrom('events')
    .selectAll()
    .where('merchant_id', '=', tenant.merchantId)
    .where('livemode', '=', tenant.livemode)
    .where('id', 'in', ids)
    .orderBy('id')
    .execute();
}
