/**
 * The one way an event is emitted. `emit` writes the event's row and the first delivery to each of
 * its destinations (the endpoints subscribed to its type and, for an order's event, the order's
 * callback URL when it asked for that event) in the caller's transaction, and queues each delivery
 * in the outbox, so an event and its deliveries commit together or not at all. Once the transaction
 * commits, a worker's outbox relay makes each first attempt itself and starts the delivery's
 * workflow, with its retry schedule, only when that attempt failed (outbox/relay.ts): whoever
 * emits (the API, a deposit's or an order's step, a payout's), a delivery that succeeds at once
 * costs no workflow start, and the emitting workflow neither waits on a receiver nor starts children.
 *
 * Operator events (emitOperatorEvent) belong to no merchant: their row alone is written here, and the
 * workflow that emitted one delivers it (operator-events.ts).
 *
 * No other code writes an event row or a delivery (test/unit/module-boundaries.test.ts holds it so).
 */
import { inTransaction, type Executor } from '../db/database';
import { findEventById, insertEvent } from './events.repository';
import { depositsOfOrders, findOrderById } from '../orders/orders.repository';
import {
  endpointsFirstDeliveredTo,
  firstDeliveriesOf,
  insertFirstCallbackDelivery,
  insertFirstDeliveries,
  insertRedelivery,
  subscribedEndpoints,
} from '../webhooks/webhooks.repository';
import type { Event, OperatorEvent, OperatorEventType } from './events.table';
import { insertOperatorEvent } from './operator-events';
import type { WebhookEndpoint } from '../webhooks/webhooks.table';
import type { EmittedEvent, PreparedDelivery, SubscribableEventType } from '../domain/events';
import { activityFailureTypes, missing } from '../domain/failures';
import { newId } from '../domain/ids';
import { callbackBody, orderCallback } from '../orders/callback';
import { queueDelivery, queueRedelivery } from '../outbox/queue';

/** The merchant and mode an event belongs to, as its object's row holds them. */
export interface EventOwner {
  merchant_id: string;
  livemode: boolean;
}

/** What an event's `data` holds: the public object it is about (a customer, a deposit, …). */
export type PublicObject = { readonly id: string } & Readonly<Record<string, unknown>>;

/**
 * An emitted event. `deliveries`, what a workflow's step hands back for its workflow to start, is
 * empty: they are queued in the outbox (`queued` lists them).
 */
export interface Emitted extends Required<EmittedEvent> {
  eventId: string;
  event: Event;
  queued: PreparedDelivery[];
}

/** Emits an operator event in the caller's transaction (docs/operations.md#operator-events). */
export async function emitOperatorEvent(
  transaction: Executor,
  type: OperatorEventType,
  livemode: boolean,
  data: Record<string, unknown>,
): Promise<OperatorEvent> {
  return insertOperatorEvent(transaction, { id: newId('operatorEvent'), type, livemode, data });
}

/** Emits `type` about `object` (the public object, as `data`), owned by `owner`. */
export async function emit(transaction: Executor, type: SubscribableEventType, owner: EventOwner, object: PublicObject): Promise<Emitted> {
  return inTransaction(transaction, async (transaction) => {
    const event = await insertEvent(transaction, { id: newId('event'), merchant_id: owner.merchant_id, livemode: owner.livemode, type, data: { ...object } });
    return queued(transaction, event, await recordDeliveries(transaction, event, await subscribedEndpoints(transaction, event)));
  });
}

/**
 * A `ping` about `endpoint` (its public object), delivered to that endpoint only, whatever it
 * subscribes to, from the outbox at commit.
 */
export async function emitPing(transaction: Executor, endpoint: WebhookEndpoint, object: PublicObject): Promise<Emitted> {
  return inTransaction(transaction, async (transaction) => {
    const event = await insertEvent(transaction, {
      id: newId('event'),
      merchant_id: endpoint.merchant_id,
      livemode: endpoint.livemode,
      type: 'ping',
      data: { ...object },
    });
    return queued(transaction, event, await recordDeliveries(transaction, event, [endpoint]));
  });
}

/**
 * An event a step emitted on an earlier attempt whose result was lost (a crash, a timeout), as if
 * emitted now: its first deliveries are queued again (the relay finds one already made, or its
 * workflow already running, and sends nothing twice), so one an earlier inflow handed to the lost
 * result, for its workflow to start, is still made. No event (a null id): nothing to deliver.
 */
export async function emittedBefore(transaction: Executor, eventId: string | null): Promise<Required<EmittedEvent>> {
  if (eventId !== null) for (const delivery of await deliveriesOf(transaction, eventId)) await queueDelivery(transaction, delivery);
  return { eventId, deliveries: [] };
}

/**
 * Every first delivery of an event emitted before: those recorded then (to an endpoint disabled or
 * unsubscribed since too, whose workflow ends it as `stopped` rather than leaving it pending with
 * nothing to start it), and any to endpoints subscribed since (an event an earlier inflow wrote
 * without deliveries has only those); made once however often this runs.
 */
export async function deliveriesOf(db: Executor, eventId: string): Promise<PreparedDelivery[]> {
  return inTransaction(db, async (transaction) => {
    const event = await findEventById(transaction, eventId);
    if (!event) throw missing(activityFailureTypes.eventNotFound, 'event', eventId);
    await recordDeliveries(transaction, event, await destinationEndpoints(transaction, event));
    return (await firstDeliveriesOf(transaction, event.id)).map((delivery) =>
      preparedDelivery(event, delivery.id, delivery.endpoint_id ? { endpointId: delivery.endpoint_id } : { orderId: delivery.order_id! }),
    );
  });
}

/** A resend: a new, recorded delivery of the event to each of its destinations now, each queued to start at commit. */
export async function resend(db: Executor, event: Event): Promise<PreparedDelivery[]> {
  return inTransaction(db, async (transaction) => {
    const deliveries: PreparedDelivery[] = [];
    for (const endpoint of await destinationEndpoints(transaction, event)) {
      const delivery = await insertRedelivery(transaction, { id: newId('webhookDelivery'), event_id: event.id, endpoint_id: endpoint.id });
      deliveries.push(preparedDelivery(event, delivery.id, { endpointId: endpoint.id }));
    }
    deliveries.push(...(await recordCallback(transaction, event, insertRedelivery)));
    for (const delivery of deliveries) await queueRedelivery(transaction, delivery);
    return deliveries;
  });
}

/**
 * The endpoints an event goes to: those subscribed to its type, or for a `ping` (which no
 * subscription receives, `*` included) the one endpoint it was first sent to.
 */
async function destinationEndpoints(transaction: Executor, event: Event): Promise<WebhookEndpoint[]> {
  return event.type === 'ping' ? endpointsFirstDeliveredTo(transaction, event) : subscribedEndpoints(transaction, event);
}

async function queued(transaction: Executor, event: Event, deliveries: PreparedDelivery[]): Promise<Emitted> {
  for (const delivery of deliveries) await queueDelivery(transaction, delivery);
  return { event, eventId: event.id, deliveries: [], queued: deliveries };
}

/** The first delivery of the event to each endpoint and, when it asked for it, its order's callback URL (idempotent). */
async function recordDeliveries(transaction: Executor, event: Event, endpoints: WebhookEndpoint[]): Promise<PreparedDelivery[]> {
  const recorded = await insertFirstDeliveries(
    transaction,
    endpoints.map((endpoint) => ({ id: newId('webhookDelivery'), event_id: event.id, endpoint_id: endpoint.id })),
  );
  const deliveries = recorded.map((delivery) => preparedDelivery(event, delivery.id, { endpointId: delivery.endpoint_id! }));
  return [...deliveries, ...(await recordCallback(transaction, event, insertFirstCallbackDelivery))];
}

/** The delivery to the event's order's callback URL when it asked for this event (callbackOf), recorded by `insert`. */
async function recordCallback(
  transaction: Executor,
  event: Event,
  insert: (transaction: Executor, delivery: { id: string; event_id: string; order_id: string; body: string }) => Promise<{ id: string }>,
): Promise<PreparedDelivery[]> {
  const callback = await callbackOf(transaction, event);
  if (!callback) return [];
  const delivery = await insert(transaction, { id: newId('webhookDelivery'), event_id: event.id, order_id: callback.orderId, body: callback.body });
  return [preparedDelivery(event, delivery.id, { orderId: callback.orderId })];
}

function preparedDelivery(event: Event, deliveryId: string, destination: { endpointId: string } | { orderId: string }): PreparedDelivery {
  return {
    deliveryId,
    eventId: event.id,
    ...('endpointId' in destination
      ? { destinationId: destination.endpointId, destinationType: 'endpoint' }
      : { destinationId: destination.orderId, destinationType: 'order' }),
    eventType: event.type,
    merchantId: event.merchant_id,
  };
}

/** An order event the order's callback URL asked for: `order.completed` always, others when listed in `callback_events`. */
async function callbackOf(transaction: Executor, event: Event): Promise<{ orderId: string; body: string } | undefined> {
  if (!event.type.startsWith('order.')) return undefined;
  const order = await findOrderById(transaction, String(event.data.id));
  if (!order?.callback_url || event.type !== `order.${order.status}` || !order.callback_events.includes(order.status)) return undefined;
  return { orderId: order.id, body: callbackBody(orderCallback(order, await depositsOfOrders(transaction, [order.id]))) };
}
