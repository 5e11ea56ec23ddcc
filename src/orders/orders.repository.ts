import type { ListWindow } from '../api/pagination';
import { sql } from 'kysely';
import type { OrderStatus } from '../domain/order-state';
import type { Executor, Tenant } from '../db/database';
import type { Deposit } from '../deposits/deposits.table';
import type { NewOrder, Order, OrderUpdate } from './orders.table';

/** The next order address index of the mode: one HD child per order on the order branch, shared by every family; a sequence per mode. */
export async function nextOrderAddressIndex(db: Executor, livemode: boolean): Promise<number> {
  const sequence = livemode ? 'order_address_index_live_seq' : 'order_address_index_test_seq';
  const { rows } = await sql<{ index: string }>`select nextval(${sql.lit(sequence)}) as index`.execute(db);
  return Number(rows[0]!.index);
}

/** Inserts the order unless one with its external_id exists for the merchant and mode: then undefined. */
export async function insertOrderIfNew(db: Executor, order: NewOrder): Promise<Order | undefined> {
  return db
    .insertInto('orders')
    .values(order)
    .onConflict((oc) => oc.columns(['merchant_id', 'livemode', 'external_id']).doNothing())
    .returningAll()
    .executeTakeFirst();
}

export async function findOrder(db: Executor, tenant: Tenant, id: string): Promise<Order | undefined> {
  return db
    .selectFrom('orders')
    .selectAll()
    .where('id', '=', id)
    .where('merchant_id', '=', tenant.merchantId)
    .where('livemode', '=', tenant.livemode)
    .executeTakeFirst();
}

export async function findOrderById(db: Executor, id: string): Promise<Order | undefined> {
  return db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findOrderByExternalId(db: Executor, tenant: Tenant, externalId: string): Promise<Order | undefined> {
  return db
    .selectFrom('orders')
    .selectAll()
    .where('merchant_id', '=', tenant.merchantId)
    .where('livemode', '=', tenant.livemode)
    .where('external_id', '=', externalId)
    .executeTakeFirst();
}

/** The order, locked until the caller's transaction ends: its settlement and late payments are serialised. */
export async function lockOrderById(db: Executor, id: string): Promise<Order | undefined> {
  return db.selectFrom('orders').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function updateOrder(db: Executor, id: string, patch: OrderUpdate): Promise<Order> {
  return db
    .updateTable('orders')
    .set({ ...patch, updated_at: new Date() })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function listOrders(
  db: Executor,
  tenant: Tenant,
  filters: { status?: OrderStatus | undefined; external_id?: string | undefined },
  page: ListWindow,
): Promise<Order[]> {
  let query = db
    .selectFrom('orders')
    .selectAll()
    .where('merchant_id', '=', tenant.merchantId)
    .where('livemode', '=', tenant.livemode)
    .orderBy('id', 'desc')
    .limit(page.limit);
  if (filters.status) query = query.where('status', '=', filters.status);
  if (filters.external_id) query = query.where('external_id', '=', filters.external_id);
  if (page.startingAfter) query = query.where('id', '<', page.startingAfter);
  if (page.createdFrom) query = query.where('created_at', '>=', page.createdFrom);
  if (page.createdBefore) query = query.where('created_at', '<', page.createdBefore);
  return query.execute();
}

/** Every deposit to the given orders, oldest first. */
export async function depositsOfOrders(db: Executor, orderIds: string[]): Promise<Deposit[]> {
  if (orderIds.length === 0) return [];
  return db.selectFrom('deposits').selectAll().where('order_id', 'in', orderIds).orderBy('created_at').orderBy('id').execute();
}

/** The order whose payment page this token opens (any merchant, any mode: the token is the secret). */
export async function findOrderByPaymentToken(db: Executor, token: string): Promise<Order | undefined> {
  return db.selectFrom('orders').selectAll().where('payment_token', '=', token).executeTakeFirst();
}

export async function findOrdersByIds(db: Executor, ids: string[]): Promise<Order[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('orders').selectAll().where('id', 'in', ids).execute();
}
