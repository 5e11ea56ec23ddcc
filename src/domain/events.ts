/**
 * The event catalogue: every event inflow emits, what it announces, and which object its `data`
 * holds. Webhook subscriptions, `GET /events?type=` and the emitters all take their types from here.
 */
export const eventCatalogue = {
  'customer.created': { object: 'customer', description: 'A customer was created, with its deposit addresses.' },
  'customer.updated': { object: 'customer', description: "A customer's email, name, external_id or metadata changed; `data` is the customer as it is now." },
  'customer.archived': { object: 'customer', description: 'A customer was archived: hidden from lists, while money sent to its addresses is still credited.' },
  'deposit.detected': { object: 'deposit', description: 'A transfer to a customer address was seen on-chain.' },
  'deposit.confirming': { object: 'deposit', description: 'The deposit got its first confirmation.' },
  'deposit.completed': { object: 'deposit', description: 'The deposit reached its required confirmations; the fee was taken and the net booked.' },
  'deposit.failed': { object: 'deposit', description: 'The deposit will not complete: its block was reorganised away, or it stalled.' },
  'deposit.reversed': { object: 'deposit', description: 'A completed deposit left the canonical chain; its booking was reversed.' },
  'deposit.refunded': {
    object: 'deposit',
    description: 'A refund of the deposit was paid out and is final on the chain; `data` is the deposit with what was refunded.',
  },
  'payout.created': { object: 'payout', description: 'A payout or refund was made: its amount and fee are held out of the available balance.' },
  'payout.approved': {
    object: 'payout',
    description: 'A payout that required approval was approved by a second key (`approved_at`); it is sent next.',
  },
  'payout.broadcast': { object: 'payout', description: "The payout's transaction was signed and sent to the network; `transaction_hash` names it." },
  'payout.completed': { object: 'payout', description: "The payout's transaction reached the network's confirmations; its amount and fee are booked." },
  'payout.failed': {
    object: 'payout',
    description: 'The payout will not be paid (its transaction reverted, or it was refused); what it held is available again.',
  },
  'payout.canceled': { object: 'payout', description: 'The payout was canceled before anything was sent; what it held is available again.' },
  'order.created': { object: 'order', description: 'An order was created, with its payment address and locked rate.' },
  'order.completed': { object: 'order', description: 'The order received its amount in full (overpaid when more); its callback is sent.' },
  'order.expired': { object: 'order', description: 'The order expired with nothing received.' },
  'order.underpaid': { object: 'order', description: 'The order expired with part of its amount received.' },
  'order.canceled': { object: 'order', description: 'The merchant canceled the order before anything was paid.' },
  ping: {
    object: 'webhook_endpoint',
    description: 'A test event, sent on request (`POST /webhook-endpoints/{id}/test`) to that one endpoint only; no subscription receives it.',
  },
} as const;

export type EventType = keyof typeof eventCatalogue;
export const eventTypes = Object.keys(eventCatalogue) as [EventType, ...EventType[]];

/**
 * What an endpoint may subscribe to (and what `*` means): every event but `ping`, which goes only
 * to the endpoint it is sent for, so a subscription to it could never receive anything.
 */
export type SubscribableEventType = Exclude<EventType, 'ping'>;
export const subscribableEventTypes = eventTypes.filter((type): type is SubscribableEventType => type !== 'ping') as [
  SubscribableEventType,
  ...SubscribableEventType[],
];

/** The events a deposit emits, one per transition. */
export type DepositEventType = Extract<EventType, `deposit.${string}`>;
export type OrderEventType = Extract<EventType, `order.${string}`>;
export type PayoutEventType = Extract<EventType, `payout.${string}`>;

/**
 * One recorded delivery of an event to one destination, as its delivery workflow takes it: the ids,
 * and what the Web UI shows and searches it by.
 */
export interface PreparedDelivery {
  deliveryId: string;
  eventId: string;
  /** Where it goes: a webhook endpoint's id, or an order's (its callback URL). */
  destinationId: string;
  /** What destinationId names: searchable as `EndpointId`, or as `OrderId` for an order's callback. */
  destinationType: 'endpoint' | 'order';
  /** The event's type and merchant, for the delivery workflow's search attributes and summary. */
  eventType: string;
  merchantId: string;
}

/**
 * The event a step emitted, if any, and the deliveries the workflow that ran the step must start as
 * children: none now, as every first delivery is queued with its event and attempted by the outbox
 * relay at commit (events/emitter.ts). Results recorded before that list the deliveries the workflow
 * started; those of an earlier inflow still omit them, and the workflow then records them with
 * prepareWebhookDeliveries, as it did. Both stay readable for the histories that hold them.
 */
export interface EmittedEvent {
  eventId: string | null;
  deliveries?: PreparedDelivery[];
}

/**
 * `customer.*`, `deposit.*`, `order.*`: every type of one object, accepted wherever an event type is
 * (subscriptions, `GET /events?type=`, the event stream), so a subscriber does not have to list, or
 * later add, each type of a family.
 */
export const eventFamilies = [...new Set(subscribableEventTypes.map((type) => `${type.split('.')[0]}.*` as const))] as [EventFamily, ...EventFamily[]];
export type EventFamily = `${string}.*`;

/** The family an event type is in (`deposit.*` for `deposit.completed`). */
export function familyOf(type: string): EventFamily {
  return `${type.split('.')[0]}.*`;
}

/** The event types a type or a family names. */
export function typesMatching(pattern: EventType | EventFamily): EventType[] {
  return pattern.endsWith('.*') ? eventTypes.filter((type) => familyOf(type) === pattern && type !== 'ping') : [pattern as EventType];
}
