import { z } from 'zod';
import { defineOperation } from '../api/operation';
import { paginationParams } from '../api/pagination';
import { Amount, amountPattern, assetChoices, DecimalString, idOf, listOf, text, Timestamp } from '../api/schema';
import { depositStatuses } from '../domain/deposit-state';
import { networkNames } from '../domain/networks';
import { CreateRefundBody, PayoutObject } from '../payouts/payouts.schema';

export const ListDepositsQuery = z.strictObject({
  ...paginationParams('deposit'),
  customer_id: idOf('customer').optional(),
  status: z.enum(depositStatuses).optional(),
  network: z.enum(networkNames).optional(),
  order_id: idOf('order').meta({ description: "Only the order's payments." }).optional(),
  transaction_hash: text()
    .min(1)
    .max(100)
    .meta({ description: 'Only deposits made by this transaction (`0x…` on EVM networks, hex without `0x` on Tron; case-insensitive).' })
    .optional(),
});

/** Pays a customer's address (network and currency required) or an order's (they default to the order's). */
export const SimulateDepositBody = z
  .strictObject({
    customer_id: idOf('customer').optional(),
    order_id: idOf('order').optional(),
    network: z.enum(networkNames).optional(),
    currency: text().min(1).max(16).optional(),
    // Its precision is checked against the currency once the pair is known (the document's oneOf says it per currency).
    amount: Amount().meta({ description: "Required with customer_id. Paying an order: the order's amount in full unless given." }).optional(),
    outcome: z.enum(['completed', 'failed']).default('completed'),
  })
  .superRefine((body, ctx) => {
    if ((body.customer_id === undefined) === (body.order_id === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['customer_id'], message: 'send customer_id, or order_id to pay an order, not both' });
    } else if (body.customer_id !== undefined) {
      for (const field of ['network', 'currency', 'amount'] as const) {
        if (body[field] === undefined) ctx.addIssue({ code: 'custom', path: [field], message: 'is required with customer_id' });
      }
    }
  })
  // The refinement above, as the document says it (zod publishes no refinement): exactly one of the two shapes.
  .meta({
    description:
      "Send `customer_id` with `network`, `currency` and `amount`, or `order_id` alone (its network and currency are the order's; `amount` defaults to the order's in full).",
    // An order's network and currency may be sent if they are the order's; the document says to leave them out, and every currency has 6 decimals at least.
    oneOf: [
      { required: ['customer_id', 'network', 'currency', 'amount'], not: { required: ['order_id'] }, oneOf: assetChoices({ amount: true }) },
      {
        required: ['order_id'],
        not: { anyOf: [{ required: ['customer_id'] }, { required: ['network'] }, { required: ['currency'] }] },
        properties: { amount: { pattern: amountPattern(6).source } },
      },
    ],
  });

/** A deposit as the API, its events and webhooks show it: amounts as decimal strings in the asset. */
export const DepositObject = z
  .object({
    id: idOf('deposit'),
    object: z.literal('deposit'),
    livemode: z.boolean(),
    customer_id: idOf('customer').nullable(),
    order_id: idOf('order').nullable(),
    network: z.string(),
    currency: z.string(),
    address: z.string(),
    from_address: z.string().nullable(),
    transaction_hash: z.string(),
    log_index: z.number().int(),
    block_number: z.number().int().nullable(),
    amount: DecimalString,
    fee: DecimalString.nullable().meta({ description: 'The flat $2 fee in the asset, set when the deposit completes.' }),
    net_amount: DecimalString.nullable(),
    amount_refunded: DecimalString.meta({ description: 'What completed refunds of the deposit sent back (`POST /deposits/{id}/refunds`).' }),
    amount_usd: DecimalString.nullable(),
    fee_usd: DecimalString.nullable(),
    confirmations: z.number().int(),
    required_confirmations: z.number().int(),
    status: z.enum(depositStatuses),
    failure_reason: z.string().nullable(),
    simulated: z.boolean(),
    created_at: Timestamp,
    updated_at: Timestamp,
    completed_at: Timestamp.nullable(),
  })
  .meta({ id: 'Deposit' });
export type DepositObject = z.infer<typeof DepositObject>;

/** A deposits export takes the list's filters, and no page: it holds every deposit they match. */
export const ExportDepositsQuery = ListDepositsQuery.omit({ limit: true, starting_after: true });

/** The export's columns, in order: the deposit's fields as the API shows them (no metadata, nothing nested). */
export const depositCsvColumns = [
  'id',
  'created_at',
  'status',
  'failure_reason',
  'network',
  'currency',
  'amount',
  'fee',
  'net_amount',
  'amount_usd',
  'fee_usd',
  'customer_id',
  'order_id',
  'address',
  'from_address',
  'transaction_hash',
  'log_index',
  'block_number',
  'confirmations',
  'required_confirmations',
  'completed_at',
  'simulated',
  'livemode',
] as const satisfies ReadonlyArray<keyof DepositObject>;

const tag = 'Deposits';

export const depositOperations = {
  list: defineOperation({
    operationId: 'listDeposits',
    method: 'get',
    path: '/deposits',
    tag,
    resource: 'deposits',
    summary: 'List deposits',
    query: ListDepositsQuery,
    response: listOf(DepositObject),
  }),
  export: defineOperation({
    operationId: 'exportDeposits',
    method: 'get',
    path: '/deposits/export',
    tag,
    resource: 'deposits',
    summary: 'Export deposits as CSV',
    description: `Every deposit the filters match (those of the list, without paging), newest first, as a CSV file streamed as it is read, whatever its size: columns ${depositCsvColumns.map((column) => `\`${column}\``).join(', ')}. Amounts are exact decimal strings in the asset (USD with cents), times ISO 8601 in UTC.`,
    query: ExportDepositsQuery,
    response: DepositObject,
    streams: 'text/csv',
  }),
  simulate: defineOperation({
    operationId: 'simulateDeposit',
    method: 'post',
    path: '/deposits/simulate',
    tag,
    resource: 'deposits',
    summary: 'Simulate a deposit (test mode)',
    description:
      'Test mode only: a deposit to a customer or an order that goes through the real workflow (detected, confirming, completed or failed, booked, announced) with simulated confirmations instead of a chain.',
    body: SimulateDepositBody,
    response: DepositObject,
    idempotent: true,
    testModeOnly: true,
  }),
  retrieve: defineOperation({
    operationId: 'retrieveDeposit',
    method: 'get',
    path: '/deposits/:id',
    pathId: 'deposit',
    tag,
    resource: 'deposits',
    summary: 'Retrieve a deposit',
    response: DepositObject,
  }),
  refund: defineOperation({
    operationId: 'refundDeposit',
    method: 'post',
    path: '/deposits/:id/refunds',
    pathId: 'deposit',
    tag,
    resource: 'payouts',
    summary: 'Refund a deposit',
    description:
      "Sends (part of) a completed deposit back to the address the customer gives, as a payout linked to the deposit (`deposit_id`): at most its net less earlier refunds (400 `refund_exceeds_deposit`), the operator's payout fee taken from the balance on top. `deposit.refunded` is sent when it completes. A deposit not completed is a 400 `deposit_not_refundable`; an amount with more decimal places than the deposit's currency has a 400 `amount_invalid`. Otherwise as `POST /payouts`: 400 `destination_invalid`, `balance_insufficient` (the fee is held too) or `payout_limit_exceeded`; 403 `payouts_disabled`.",
    body: CreateRefundBody,
    response: PayoutObject,
    idempotent: true,
  }),
};
