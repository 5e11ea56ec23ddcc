import { z } from 'zod';
import { defineOperation } from '../api/operation';
import { paginationParams } from '../api/pagination';
import { Amount, assetChoices, DecimalString, idOf, listOf, Metadata, NoParameters, text, Timestamp, trimmedText } from '../api/schema';
import { fiatCurrencies } from '../domain/exchange';
import { networkNames } from '../domain/networks';
import { callbackStatuses, DEFAULT_EXPIRES_IN_SECONDS, MAX_EXPIRES_IN_SECONDS, MIN_EXPIRES_IN_SECONDS, orderStatuses } from '../domain/order-state';

export const CreateOrderBody = z
  .strictObject({
    external_id: trimmedText().min(1).max(256),
    network: z.enum(networkNames),
    currency: text().min(1).max(16),
    // Decimal strings; the asset's precision is checked once the asset is known (the document's oneOf says it per currency).
    amount: Amount().optional(),
    // Cents; 15 whole digits, so that no price makes it more than a chain can hold.
    fiat_amount: Amount(2, 15).optional(),
    fiat_currency: z.enum(fiatCurrencies).optional(),
    customer_id: idOf('customer').optional(),
    expires_in: z.number().int().min(MIN_EXPIRES_IN_SECONDS).max(MAX_EXPIRES_IN_SECONDS).default(DEFAULT_EXPIRES_IN_SECONDS),
    callback_url: text()
      .min(1)
      .max(2048)
      .meta({
        format: 'uri',
        description:
          'An absolute http:// or https:// URL without credentials (https in live mode). One on an address this server does not deliver to (private or loopback, by its settings) is a 400 `url_invalid`.',
      })
      .optional(),
    success_url: returnUrl(
      'Where the payment page (`payment_url`) sends the payer once the order is completed: an absolute http:// or https:// URL without credentials (https in live mode).',
    ).optional(),
    cancel_url: returnUrl(
      'Where the payment page offers to take the payer back to your site before paying, and after the order expires or is canceled; rules as `success_url`.',
    ).optional(),
    // The statuses whose callback is sent besides `completed`, which always is.
    callback_events: z.array(z.enum(callbackStatuses)).max(callbackStatuses.length).optional(),
    metadata: Metadata.optional(),
  })
  .superRefine((body, ctx) => {
    if ((body.amount === undefined) === (body.fiat_amount === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['amount'], message: 'send either amount (in the asset) or fiat_amount with fiat_currency, not both' });
    } else if ((body.fiat_amount === undefined) !== (body.fiat_currency === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [body.fiat_amount === undefined ? 'fiat_amount' : 'fiat_currency'],
        message: 'fiat_amount and fiat_currency go together',
      });
    }
  })
  // The refinement above, as the document says it (zod publishes no refinement): an amount in the asset, or one in fiat.
  .meta({
    allOf: [
      {
        oneOf: [
          { required: ['amount'], not: { anyOf: [{ required: ['fiat_amount'] }, { required: ['fiat_currency'] }] } },
          { required: ['fiat_amount', 'fiat_currency'], not: { required: ['amount'] } },
        ],
      },
      { oneOf: assetChoices({ amount: true }) },
    ],
  });

function returnUrl(description: string) {
  return text().min(1).max(2048).meta({ format: 'uri', description });
}

export const ListOrdersQuery = z.strictObject({
  ...paginationParams('order'),
  status: z.enum(orderStatuses).optional(),
  external_id: text().min(1).max(256).optional(),
});

/** An order as the API, its `order.*` events and webhooks show it. */
export const OrderObject = z
  .object({
    id: idOf('order'),
    object: z.literal('order'),
    livemode: z.boolean(),
    external_id: z.string(),
    status: z.enum(orderStatuses),
    overpaid: z.boolean().meta({ description: 'Completed with more than `amount` received.' }),
    late: z.boolean().meta({ description: 'A payment was detected after the order settled (it is credited as a deposit all the same).' }),
    customer_id: idOf('customer').nullable(),
    network: z.string(),
    currency: z.string(),
    address: z.string(),
    amount: DecimalString,
    amount_received: DecimalString,
    fiat_amount: DecimalString.nullable(),
    fiat_currency: z.string().nullable(),
    exchange_rate: DecimalString.nullable().meta({ description: 'Fiat per unit of the asset, locked when the order was made.' }),
    fee: DecimalString,
    net_amount: DecimalString,
    deposits: z.array(idOf('deposit')),
    expires_at: Timestamp,
    callback_url: z.string().nullable(),
    callback_events: z.array(z.string()),
    payment_url: z.string().nullable().meta({
      description:
        "The order's hosted payment page, to send the payer to: amount, address, QR code and status, live (docs/checkout.md). Its token is the secret: anyone with the URL sees the page. Null only for orders made before payment pages existed.",
    }),
    success_url: z.string().nullable(),
    cancel_url: z.string().nullable(),
    metadata: z.record(z.string(), z.string()),
    created_at: Timestamp,
    updated_at: Timestamp,
    completed_at: Timestamp.nullable(),
  })
  .meta({ id: 'Order' });
export type OrderObject = z.infer<typeof OrderObject>;

const tag = 'Orders';

export const orderOperations = {
  create: defineOperation({
    operationId: 'createOrder',
    method: 'post',
    path: '/orders',
    tag,
    resource: 'orders',
    summary: 'Create a deposit order',
    description:
      'A CryptoPayments-style deposit order: your `external_id`, an amount in the asset or in fiat (converted at a locked rate), an expiry, and an optional `callback_url` signed as CryptoPayments signs it (see docs/orders.md). A `callback_url` this server will not deliver to is a 400 `url_invalid`; a `customer_id` of an archived customer a 400 `customer_archived`; an `external_id` in use a 409 `resource_already_exists`.',
    body: CreateOrderBody,
    response: OrderObject,
    idempotent: true,
  }),
  list: defineOperation({
    operationId: 'listOrders',
    method: 'get',
    path: '/orders',
    tag,
    resource: 'orders',
    summary: 'List orders',
    query: ListOrdersQuery,
    response: listOf(OrderObject),
  }),
  retrieve: defineOperation({
    operationId: 'retrieveOrder',
    method: 'get',
    path: '/orders/:id',
    pathId: 'order',
    tag,
    resource: 'orders',
    summary: 'Retrieve an order',
    response: OrderObject,
  }),
  cancel: defineOperation({
    operationId: 'cancelOrder',
    method: 'post',
    path: '/orders/:id/cancel',
    pathId: 'order',
    tag,
    resource: 'orders',
    summary: 'Cancel an order',
    description:
      "Cancels a pending order nothing was paid to (400 `order_not_cancelable` otherwise). The order's workflow decides; 503 if it does not answer within 10 s (the cancel may still apply: retry). An order canceled already is answered as it is, 200, so a retry is safe.",
    body: NoParameters,
    response: OrderObject,
    idempotent: true,
  }),
};
