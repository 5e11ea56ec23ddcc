import type { ListWindow } from '../api/pagination';
import { sql } from 'kysely';
import type { Executor, Tenant } from '../db/database';
import { familyOf } from '../domain/events';
import type { Event } from '../events/events.table';
import type { NewWebhookEndpoint, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEndpointUpdate } from './webhooks.table';

export async function insertWebhookEndpoint(db: Executor, endpoint: NewWebhookEndpoint): Promise<WebhookEndpoint> {
  return db.insertInto('webhook_endpoints').values(endpoint).returningAll().executeTakeFirstOrThrow();
}

export async function findWebhookEndpoint(db: Executor, tenant: Tenant, id: string): Promise<WebhookEndpoint | undefined> {
  return db
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where('id', '=', id)
    .where('merchant_id', '=', tenant.merchantId)
    .where('livemode', '=', tenant.livemode)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
}

export async function listWebhookEndpoints(db: Executor, tenant: Tenant, page: ListWindow): Promise<WebhookEndpoint[]> {
  let query = db
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where('merchant_id', '=', tenant.merchantId)
    .where('livemode', '=', tenant.livemode)
    .where('deleted_at', 'is', null)
    .orderBy('id', 'desc')
    .limit(page.limit);
  if (page.startingAfter) query = query.where('id', '<', page.startingAfter);
  if (page.createdFrom) query = query.where('created_at', '>=', page.createdFrom);
  if (page.createdBefore) query = query.where('created_at', '<', page.createdBefore);
  return query.execute();
}

export async function updateWebhookEndpoint(db: Executor, id: string, patch: WebhookEndpointUpdate): Promise<WebhookEndpoint> {
  return db
    .updateTable('webhook_endpoints')
    .set({ ...patch, updated_at: new Date() })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Enabled endpoints of the event's merchant and mode that subscribe to its type. */
export async function subscribedEndpoints(db: Executor, event: Event): Promise<WebhookEndpoint[]> {
  return db
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where('merchant_id', '=', event.merchant_id)
    .where('livemode', '=', event.livemode)
    .where('disabled', '=', false)
    .where('deleted_at', 'is', null)
    .where(sql<boolean>`events && array[${event.type}, ${familyOf(event.type)}, '*']::text[]`)
    .orderBy('id')
    .execute();
}

/** Enabled endpoints an event was first delivered to: where a `ping`, which no subscription receives, goes again when resent. */
export async function endpointsFirstDeliveredTo(db: Executor, event: Event): Promise<WebhookEndpoint[]> {
  return db
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where('disabled', '=', false)
    .where('deleted_at', 'is', null)
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('webhook_deliveries')
        .select('endpoint_id')
        .where('event_id', '=', event.id)
        .where('redelivery', '=', false)
        .where('endpoint_id', 'is not', null),
    )
    .orderBy('id')
    .execute();
}

/** Every first delivery of the event (not its resends): to endpoints by endpoint id, then its order's callback. */
export async function firstDeliveriesOf(db: Executor, eventId: string): Promise<WebhookDelivery[]> {
  return db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('event_id', '=', eventId)
    .where('redelivery', '=', false)
    .orderBy(sql`order_id is not null`)
    .orderBy('endpoint_id')
    .execute();
}

/** The first delivery of the event to each endpoint, made once however often this runs. */
export async function insertFirstDeliveries(
  db: Executor,
  deliveries: Array<{ id: string; event_id: string; endpoint_id: string }>,
): Promise<WebhookDelivery[]> {
  if (deliveries.length === 0) return [];
  await db
    .insertInto('webhook_deliveries')
    .values(deliveries.map((delivery) => ({ ...delivery, redelivery: false, status: 'pending' as const })))
    .onConflict((oc) => oc.columns(['event_id', 'endpoint_id']).where('redelivery', '=', false).doNothing())
    .execute();
  return db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('event_id', '=', deliveries[0]!.event_id)
    .where('redelivery', '=', false)
    .where(
      'endpoint_id',
      'in',
      deliveries.map((delivery) => delivery.endpoint_id),
    )
    .orderBy('endpoint_id')
    .execute();
}

/** The first callback of the event to its order's callback URL, made once however often this runs. */
export async function insertFirstCallbackDelivery(
  db: Executor,
  delivery: { id: string; event_id: string; order_id: string; body: string },
): Promise<WebhookDelivery> {
  await db
    .insertInto('webhook_deliveries')
    .values({ ...delivery, redelivery: false, status: 'pending' })
    .onConflict((oc) =>
      oc
        .columns(['event_id', 'order_id'])
        .where(sql<boolean>`not redelivery and order_id is not null`)
        .doNothing(),
    )
    .execute();
  return db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('event_id', '=', delivery.event_id)
    .where('order_id', '=', delivery.order_id)
    .where('redelivery', '=', false)
    .executeTakeFirstOrThrow();
}

/** A resend: to an endpoint, or (with `order_id` and the body to sign) to an order's callback URL. */
export async function insertRedelivery(
  db: Executor,
  delivery: { id: string; event_id: string } & ({ endpoint_id: string } | { order_id: string; body: string }),
): Promise<WebhookDelivery> {
  return db
    .insertInto('webhook_deliveries')
    .values({ ...delivery, redelivery: true, status: 'pending' })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * What attempt `attemptNumber` of a delivery needs, in one round trip: the delivery, its event, its
 * destination, and that attempt's record if it was already made (it is then not sent again).
 */
export async function findDeliveryForAttempt(db: Executor, deliveryId: string, attemptNumber: number) {
  return db
    .selectFrom('webhook_deliveries')
    .leftJoin('webhook_endpoints', 'webhook_endpoints.id', 'webhook_deliveries.endpoint_id')
    .leftJoin('orders', 'orders.id', 'webhook_deliveries.order_id')
    .innerJoin('events', 'events.id', 'webhook_deliveries.event_id')
    .leftJoin('webhook_attempts', (join) =>
      join.onRef('webhook_attempts.delivery_id', '=', 'webhook_deliveries.id').on('webhook_attempts.attempt_number', '=', attemptNumber),
    )
    .select([
      'webhook_attempts.id as recorded_attempt_id',
      'webhook_attempts.succeeded as recorded_succeeded',
      'webhook_attempts.status_code as recorded_status_code',
      'webhook_attempts.error as recorded_error',
      'webhook_deliveries.id as delivery_id',
      'webhook_deliveries.status as delivery_status',
      'webhook_deliveries.body',
      'webhook_deliveries.order_id',
      'orders.callback_url',
      'webhook_endpoints.id as endpoint_id',
      'webhook_endpoints.url',
      'webhook_endpoints.secret',
      'webhook_endpoints.previous_secret',
      'webhook_endpoints.previous_secret_expires_at',
      'webhook_endpoints.x_webhook_signature_format',
      'webhook_endpoints.disabled',
      'webhook_endpoints.deleted_at',
      'events.id as event_id',
      'events.merchant_id',
      'events.type',
      'events.data',
      'events.livemode',
      'events.created_at',
    ])
    .where('webhook_deliveries.id', '=', deliveryId)
    .executeTakeFirst();
}

/**
 * Logs an attempt (once per attempt number) and, when the attempt settles its delivery, the
 * delivery's final status with it: one statement, so the log never shows a delivery's last attempt
 * without its status, and the common case (a first attempt that succeeds) costs one round trip.
 */
export async function recordAttempt(db: Executor, attempt: Omit<WebhookAttempt, 'id'>, settledStatus: WebhookDelivery['status'] | null): Promise<void> {
  const insertAttempt = db
    .insertInto('webhook_attempts')
    .values(attempt)
    .onConflict((oc) => oc.columns(['delivery_id', 'attempt_number']).doNothing());
  if (settledStatus === null) {
    await insertAttempt.execute();
    return;
  }
  await db
    .with('attempt', () => insertAttempt)
    .updateTable('webhook_deliveries')
    .set({ status: settledStatus, updated_at: new Date() })
    .where('id', '=', attempt.delivery_id)
    .execute();
}

export async function setDeliveryStatus(db: Executor, deliveryId: string, status: WebhookDelivery['status']): Promise<void> {
  await db.updateTable('webhook_deliveries').set({ status, updated_at: new Date() }).where('id', '=', deliveryId).execute();
}

export async function deliveriesOfEvents(db: Executor, eventIds: string[]): Promise<Array<WebhookDelivery & { attempts: WebhookAttempt[] }>> {
  if (eventIds.length === 0) return [];
  const deliveries = await db.selectFrom('webhook_deliveries').selectAll().where('event_id', 'in', eventIds).orderBy('created_at').orderBy('id').execute();
  if (deliveries.length === 0) return [];
  const attempts = await db
    .selectFrom('webhook_attempts')
    .selectAll()
    .where(
      'delivery_id',
      'in',
      deliveries.map((delivery) => delivery.id),
    )
    .orderBy('attempt_number')
    .execute();
  return deliveries.map((delivery) => ({ ...delivery, attempts: attempts.filter((attempt) => attempt.delivery_id === delivery.id) }));
}

/** Endpoints whose secret or previous secret is still stored in plaintext (`whsec_…`, from before secrets were sealed). */
export async function plaintextSecretEndpoints(db: Executor, limit: number): Promise<Array<Pick<WebhookEndpoint, 'id' | 'secret' | 'previous_secret'>>> {
  return db
    .selectFrom('webhook_endpoints')
    .select(['id', 'secret', 'previous_secret'])
    .where((eb) =>
      eb.or([eb(eb.fn('starts_with', ['secret', eb.val('whsec_')]), '=', true), eb(eb.fn('starts_with', ['previous_secret', eb.val('whsec_')]), '=', true)]),
    )
    .orderBy('id')
    .limit(limit)
    .execute();
}

/** Replaces an endpoint's stored secrets if they are still the ones read (`seen`): true when it did. */
export async function replaceEndpointSecrets(
  db: Executor,
  seen: Pick<WebhookEndpoint, 'id' | 'secret' | 'previous_secret'>,
  values: Pick<WebhookEndpoint, 'secret' | 'previous_secret'>,
): Promise<boolean> {
  const result = await db
    .updateTable('webhook_endpoints')
    .set(values)
    .where('id', '=', seen.id)
    .where('secret', '=', seen.secret)
    .where(sql<boolean>`previous_secret is not distinct from ${seen.previous_secret}`)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
