import { z } from 'zod';
import { defineOperation } from '../api/operation';
import { paginationParams } from '../api/pagination';
import { Id, listOf, NoParameters, Timestamp } from '../api/schema';
import { eventTypes } from '../domain/events';

export const ListEventsQuery = z.strictObject({
  ...paginationParams,
  type: z.enum(eventTypes).optional(),
});

/** The event as webhooks deliver it (its compact JSON is the signed body); `data` is the object it announces. */
export const EventObject = z
  .object({
    id: Id,
    object: z.literal('event'),
    event: z.string().meta({ description: 'The event type, e.g. `deposit.completed`.' }),
    created_at: Timestamp,
    livemode: z.boolean(),
    data: z.record(z.string(), z.unknown()).meta({ description: 'The object the event announces (a customer, deposit or order) as it was then.' }),
  })
  .meta({ id: 'Event' });
export type EventObject = z.infer<typeof EventObject>;

export const DeliveryAttemptObject = z
  .object({
    attempt: z.number().int(),
    attempted_at: Timestamp,
    status_code: z.number().int().nullable(),
    latency_ms: z.number().int().nullable(),
    succeeded: z.boolean(),
    error: z.string().nullable(),
    response_body: z.string().nullable().meta({ description: "The start of the receiver's answer." }),
  })
  .meta({ id: 'DeliveryAttempt' });

export const DeliveryObject = z
  .object({
    id: Id,
    endpoint_id: Id.nullable(),
    order_id: Id.nullable().meta({ description: "Set for an order's callback, delivered to the order's callback_url rather than to an endpoint." }),
    status: z.enum(['pending', 'succeeded', 'failed']),
    redelivery: z.boolean(),
    created_at: Timestamp,
    attempts: z.array(DeliveryAttemptObject),
  })
  .meta({ id: 'Delivery' });

/** An event as the API shows it: with its deliveries per endpoint and every recorded attempt. */
export const EventWithDeliveries = EventObject.extend({ deliveries: z.array(DeliveryObject) }).meta({ id: 'EventWithDeliveries' });

const tag = 'Events';

export const eventOperations = {
  list: defineOperation({
    operationId: 'listEvents',
    method: 'get',
    path: '/events',
    tag,
    resource: 'events',
    summary: 'List events',
    query: ListEventsQuery,
    response: listOf(EventWithDeliveries),
  }),
  retrieve: defineOperation({
    operationId: 'retrieveEvent',
    method: 'get',
    path: '/events/:id',
    tag,
    resource: 'events',
    summary: 'Retrieve an event',
    response: EventWithDeliveries,
  }),
  resend: defineOperation({
    operationId: 'resendEvent',
    method: 'post',
    path: '/events/:id/resend',
    tag,
    resource: 'events',
    summary: 'Resend an event',
    description: 'Delivers the event again to every endpoint that subscribes to it now, as new deliveries marked `redelivery`, with the full retry schedule.',
    body: NoParameters,
    response: EventWithDeliveries,
    idempotent: true,
  }),
};
