/** Events as the API shows them and as webhooks deliver them. */
import type { Executor } from '../db/database';
import { deliveriesOfEvents } from '../webhooks/webhooks.repository';
import type { Event } from './events.table';
import type { EventObject } from './events.schema';

/** The event as delivered: its JSON.stringify is the webhook body, compact, signed byte for byte. */
export function eventObject(event: Pick<Event, 'id' | 'type' | 'created_at' | 'livemode' | 'data'>): EventObject {
  return { id: event.id, object: 'event', event: event.type, created_at: event.created_at.toISOString(), livemode: event.livemode, data: event.data };
}

/** Events with their deliveries per endpoint and every recorded attempt, as `GET /events` shows them. */
export async function presentEvents(db: Executor, events: Event[]) {
  const deliveries = await deliveriesOfEvents(
    db,
    events.map((event) => event.id),
  );
  return events.map((event) => ({
    ...eventObject(event),
    deliveries: deliveries
      .filter((delivery) => delivery.event_id === event.id)
      .map((delivery) => ({
        id: delivery.id,
        endpoint_id: delivery.endpoint_id,
        // An order's callback: delivered to the order's callback_url, not to an endpoint.
        order_id: delivery.order_id,
        status: delivery.status,
        redelivery: delivery.redelivery,
        created_at: delivery.created_at.toISOString(),
        attempts: delivery.attempts.map((attempt) => ({
          attempt: attempt.attempt_number,
          attempted_at: attempt.attempted_at.toISOString(),
          status_code: attempt.status_code,
          latency_ms: attempt.latency_ms,
          succeeded: attempt.succeeded,
          error: attempt.error,
          response_body: attempt.response_body,
        })),
      })),
  }));
}
