import { z } from 'zod';
import { defineOperation } from '../api/operation';
import { paginationParams } from '../api/pagination';
import { idOf, listOf, NoParameters, text, Timestamp } from '../api/schema';
import { eventFamilies, eventTypes, type EventType } from '../domain/events';

export const ListEventsQuery = z.strictObject({
  ...paginationParams('event'),
  type: z
    .enum([...eventTypes, ...eventFamilies])
    .meta({ description: 'Only events of this type, or of this family (`deposit.*`).' })
    .optional(),
  object_id: text()
    .min(1)
    .max(64)
    .meta({ description: 'Only events about this object (a customer, deposit, order or webhook endpoint id): its history, oldest last.' })
    .optional(),
});

/** The event as webhooks deliver it (its compact JSON is the signed body); `data` is the object it announces. */
export const EventObject = z
  .object({
    id: idOf('event'),
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
    id: idOf('webhookDelivery'),
    endpoint_id: idOf('webhookEndpoint').nullable(),
    order_id: idOf('order').nullable().meta({ description: "Set for an order's callback, delivered to the order's callback_url rather than to an endpoint." }),
    status: z.enum(['pending', 'succeeded', 'failed']),
    redelivery: z.boolean(),
    created_at: Timestamp,
    attempts: z.array(DeliveryAttemptObject),
  })
  .meta({ id: 'Delivery' });

/** An event as the API shows it: with its deliveries per endpoint and every recorded attempt. */
export const EventWithDeliveries = EventObject.extend({ deliveries: z.array(DeliveryObject) }).meta({ id: 'EventWithDeliveries' });

/**
 * `GET /events/stream?types=deposit.*,order.completed`: event types and `group.*` patterns, comma
 * separated, each naming at least one type of the catalogue; the types they match, or every type
 * when absent.
 */
export const StreamEventsQuery = z.strictObject({
  types: z
    .string()
    .max(1000)
    .transform((list, ctx) => {
      const matched = new Set<EventType>();
      for (const pattern of list.split(',').map((item) => item.trim())) {
        const types = eventTypes.filter((type) => pattern === '*' || type === pattern || (pattern.endsWith('.*') && type.startsWith(pattern.slice(0, -1))));
        if (types.length === 0) {
          ctx.addIssue({ code: 'custom', message: `'${pattern}' matches no event type (e.g. deposit.*, ${eventTypes[0]}, or *)` });
          return z.NEVER;
        }
        types.forEach((type) => matched.add(type));
      }
      return [...matched];
    })
    .optional(),
});

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
    pathId: 'event',
    tag,
    resource: 'events',
    summary: 'Retrieve an event',
    response: EventWithDeliveries,
  }),
  resend: defineOperation({
    operationId: 'resendEvent',
    method: 'post',
    path: '/events/:id/resend',
    pathId: 'event',
    tag,
    resource: 'events',
    summary: 'Resend an event',
    description: 'Delivers the event again to every endpoint that subscribes to it now, as new deliveries marked `redelivery`, with the full retry schedule.',
    body: NoParameters,
    response: EventWithDeliveries,
    idempotent: true,
  }),
  stream: defineOperation({
    operationId: 'streamEvents',
    method: 'get',
    path: '/events/stream',
    tag,
    resource: 'events',
    summary: 'Stream events as they happen',
    description:
      "Server-sent events: each of the key's events, from when the stream opens, as `id: evt_…`, `event: <type>`, `data: <the event as GET /events/:id shows it>`, within about 200 ms of its commit, and a comment every 15 s. Send `Last-Event-ID` to resume after an event (what was made in the 30 s before it is sent again: drop ids you have seen). `npm run cli -- listen` forwards it to a local URL. An open stream holds none of the key's concurrent-request slots; a merchant may have 10 open in each API process (`INFLOW_EVENT_STREAMS_PER_MERCHANT`), one more is a 429 `concurrency_limit_exceeded`.",
    query: StreamEventsQuery,
    response: EventWithDeliveries,
    streams: 'text/event-stream',
  }),
};
