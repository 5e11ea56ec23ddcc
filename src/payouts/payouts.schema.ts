import { z } from 'zod';
import { defineOperation } from '../api/operation';
import { paginationParams } from '../api/pagination';
import { Amount, assetChoices, DecimalString, idOf, listOf, Metadata, NoParameters, text, Timestamp, trimmedText } from '../api/schema';
import { feeBases } from '../domain/fees';
import { networkNames } from '../domain/networks';
import { payoutStatuses } from './payouts.table';

const Destination = text().min(1).max(128).meta({
  description:
    'Where the payout goes: on an EVM network a 0x address in its EIP-55 checksummed form (mixed case; an all-lower-case address is refused with the checksummed form to check), on Tron a base58check T… address. Anything else is a 400 with `param` `destination`.',
});

export const CreatePayoutBody = z
  .strictObject({
    network: z.enum(networkNames),
    currency: text().min(1).max(16),
    // Its precision is checked against the currency once the pair is known (the document's oneOf says it per currency).
    amount: Amount().meta({ description: 'What the destination receives, in the currency (the fee is taken from the balance on top of it).' }),
    destination: Destination,
    external_id: trimmedText()
      .min(1)
      .max(256)
      .meta({ description: 'Your own reference, unique among your payouts in the mode (a second use is a 409 `resource_already_exists`).' })
      .optional(),
    metadata: Metadata.optional(),
  })
  .meta({ oneOf: assetChoices({ amount: true }) });

export const CreateRefundBody = z.strictObject({
  destination: Destination.meta({
    description:
      "The customer's address to send the refund to (the deposit's sender is not assumed: exchanges send from addresses that are not the customer's).",
  }),
  amount: Amount()
    .meta({ description: "What to send back, in the deposit's currency; at most what the deposit netted less what was refunded before. Absent: all of that." })
    .optional(),
  metadata: Metadata.optional(),
});

export const ListPayoutsQuery = z.strictObject({
  ...paginationParams('payout'),
  status: z.enum(payoutStatuses).optional(),
  deposit_id: idOf('deposit').meta({ description: "Only the deposit's refunds." }).optional(),
  external_id: text().min(1).max(256).optional(),
});

/** A payout (or refund) as the API, its `payout.*` events and webhooks show it. */
export const PayoutObject = z
  .object({
    id: idOf('payout'),
    object: z.literal('payout'),
    livemode: z.boolean(),
    status: z.enum(payoutStatuses).meta({
      description:
        '`requires_approval` (held, waiting for another key to approve it), `pending` (recorded, held, cancelable), `queued` (waiting for the hot wallet to hold enough, cancelable), `sending` (being signed), `broadcast` (sent, confirming), `completed` (final and booked), `failed` or `canceled` (nothing held).',
    }),
    network: z.string(),
    currency: z.string(),
    amount: DecimalString.meta({ description: 'What the destination receives.' }),
    fee: DecimalString.meta({
      description:
        "What the operator charges for sending it, in the payout's currency, taken from the balance with the amount. With `fee_basis` `measured`, the most it may be until the payout completes, then what its transaction cost on the network.",
    }),
    fee_basis: z.enum(feeBases).meta({
      description:
        "`fixed`: the operator's fixed fee per payout. `measured`: what the payout's transaction cost on the network (its gas, or on Tron the TRX it burned), converted at the prices when it completes and never more than the fee held.",
    }),
    destination: z.string(),
    external_id: z.string().nullable(),
    deposit_id: idOf('deposit').nullable().meta({ description: 'Set for a refund: the deposit it pays back.' }),
    transaction_hash: z.string().nullable().meta({ description: 'The transaction that pays it, once broadcast (the one mined, once completed).' }),
    failure_reason: z.string().nullable(),
    approved_at: Timestamp.nullable().meta({ description: 'When another key approved it, for a payout that required approval.' }),
    metadata: z.record(z.string(), z.string()),
    created_at: Timestamp,
    updated_at: Timestamp,
    broadcast_at: Timestamp.nullable(),
    completed_at: Timestamp.nullable().meta({ description: 'When it completed, failed or was canceled.' }),
  })
  .meta({ id: 'Payout' });
export type PayoutObject = z.infer<typeof PayoutObject>;

const tag = 'Payouts';

export const payoutOperations = {
  create: defineOperation({
    operationId: 'createPayout',
    method: 'post',
    path: '/payouts',
    tag,
    resource: 'payouts',
    summary: 'Create a payout',
    description:
      "Sends part of the available balance to an address, from the treasury's hot wallet. The amount and the fee are held at once, under the merchant's ledger lock: a 400 `balance_insufficient` writes nothing. A destination that is not an address of the network in its checksummed form (EIP-55 on EVM networks, base58check on Tron) is a 400 `destination_invalid`. A payout workflow then signs, broadcasts and follows its transaction to the network's confirmations, and books it (`payout.completed`); a failure releases the hold (`payout.failed`). Live payouts are off until the operator enables them (403 `payouts_disabled`); what one merchant pays out in 24 hours is limited (400 `payout_limit_exceeded`), and a payout above the operator's threshold waits for another key's approval (`requires_approval`).",
    body: CreatePayoutBody,
    response: PayoutObject,
    idempotent: true,
  }),
  list: defineOperation({
    operationId: 'listPayouts',
    method: 'get',
    path: '/payouts',
    tag,
    resource: 'payouts',
    summary: 'List payouts',
    description: 'Payouts and refunds, newest first.',
    query: ListPayoutsQuery,
    response: listOf(PayoutObject),
  }),
  retrieve: defineOperation({
    operationId: 'retrievePayout',
    method: 'get',
    path: '/payouts/:id',
    pathId: 'payout',
    tag,
    resource: 'payouts',
    summary: 'Retrieve a payout',
    response: PayoutObject,
  }),
  approve: defineOperation({
    operationId: 'approvePayout',
    method: 'post',
    path: '/payouts/:id/approve',
    pathId: 'payout',
    tag,
    resource: 'payout_approvals',
    summary: 'Approve a payout',
    description:
      "A payout worth more than the operator's approval threshold (INFLOW_PAYOUT_APPROVAL_ABOVE_USD) is made `requires_approval`: its amount is held, and nothing is sent until a key with `write` on `payout_approvals`, other than the key that made it (403 `payout_approval_same_key`), approves it here. It then goes on as `pending`. An approved payout answers as it is; one that does not require approval is a 400 `payout_not_awaiting_approval`.",
    body: NoParameters,
    response: PayoutObject,
    idempotent: true,
  }),
  cancel: defineOperation({
    operationId: 'cancelPayout',
    method: 'post',
    path: '/payouts/:id/cancel',
    pathId: 'payout',
    tag,
    resource: 'payouts',
    summary: 'Cancel a payout',
    description:
      'Cancels a payout that is `requires_approval`, `pending` or `queued` (nothing signed yet) and releases what it held (`payout.canceled`). A canceled payout answers as it is; one already being sent is a 400 `payout_not_cancelable`.',
    body: NoParameters,
    response: PayoutObject,
    idempotent: true,
  }),
};
