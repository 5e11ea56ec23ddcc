import { z } from 'zod';
import { defineOperation } from '../api/operation';
import { paginationParams } from '../api/pagination';
import { DecimalString, idOf, listOf, Timestamp } from '../api/schema';
import { currencyNames, networkNames } from '../domain/networks';
import { ledgerKinds } from './ledger.table';

export const BalanceObject = z
  .object({
    object: z.literal('balance'),
    livemode: z.boolean(),
    by_currency: z.array(
      z.object({
        network: z.string(),
        currency: z.string(),
        total_received: DecimalString,
        total_fees: DecimalString,
        net: DecimalString.meta({ description: 'What deposits brought in after their fees (reversals taken off): total_received minus total_fees.' }),
        available: DecimalString.meta({
          description: 'What can be paid out now: the net less completed payouts (with their fees) and less what payouts in flight hold.',
        }),
        pending: DecimalString.meta({ description: 'Held by payouts in flight (amount and fee): back in `available` if one fails or is canceled.' }),
        paid_out: DecimalString.meta({ description: 'What completed payouts and refunds sent, with their fees.' }),
        deposit_count: z.number().int(),
      }),
    ),
    total_received_usd: DecimalString,
    total_fees_usd: DecimalString,
    net_usd: DecimalString,
  })
  .meta({ id: 'Balance' });
export type BalanceObject = z.infer<typeof BalanceObject>;

export const ListBalanceTransactionsQuery = z.strictObject({
  ...paginationParams('ledgerTransaction'),
  deposit_id: idOf('deposit')
    .meta({ description: "Only the deposit's bookings: its completion and, if its block was reorganised away, its reversal." })
    .optional(),
  payout_id: idOf('payout').meta({ description: "Only the payout's booking, made when it completed." }).optional(),
  network: z.enum(networkNames).optional(),
  currency: z.enum(currencyNames).optional(),
  type: z.enum(ledgerKinds).optional(),
});

/**
 * One transaction of the double-entry ledger, as Stripe's balance transactions: a completed
 * deposit booked (`deposit`), or undone after a reorg (`reversal`, its figures negative), or a
 * completed payout or refund (`payout`: its amount negative, its fee positive, its net negative).
 */
export const BalanceTransactionObject = z
  .object({
    id: idOf('ledgerTransaction'),
    object: z.literal('balance_transaction'),
    type: z.enum(ledgerKinds),
    deposit_id: idOf('deposit').nullable().meta({ description: "The deposit booked or reversed; null for a payout's booking." }),
    payout_id: idOf('payout').nullable().meta({ description: 'The payout booked (a refund is a payout too); null otherwise.' }),
    livemode: z.boolean(),
    network: z.string(),
    currency: z.string(),
    amount: DecimalString.meta({
      description: "What the customer paid, in the currency's units at its full precision (negative for a reversal); for a payout, minus what it sent.",
    }),
    fee: DecimalString.meta({ description: 'The platform fee in the currency (negative for a reversal).' }),
    net: DecimalString.meta({ description: "What the merchant's balance gained: amount minus fee (negative for a reversal)." }),
    amount_usd: DecimalString.meta({ description: 'The amount in USD at the price captured when the deposit completed.' }),
    fee_usd: DecimalString,
    net_usd: DecimalString,
    created_at: Timestamp.meta({ description: 'When it was booked.' }),
  })
  .meta({ id: 'BalanceTransaction' });
export type BalanceTransactionObject = z.infer<typeof BalanceTransactionObject>;

/** An export takes the list's filters, and no page: it holds every transaction they match. */
export const ExportBalanceTransactionsQuery = ListBalanceTransactionsQuery.omit({ limit: true, starting_after: true });

/** The export's columns, in order: the object's fields as the API shows them. */
export const balanceTransactionCsvColumns = [
  'id',
  'created_at',
  'type',
  'deposit_id',
  'payout_id',
  'network',
  'currency',
  'amount',
  'fee',
  'net',
  'amount_usd',
  'fee_usd',
  'net_usd',
  'livemode',
] as const satisfies ReadonlyArray<keyof BalanceTransactionObject>;

const tag = 'Balance';

export const balanceOperations = {
  retrieve: defineOperation({
    operationId: 'retrieveBalance',
    method: 'get',
    path: '/balance',
    tag,
    resource: 'balance',
    summary: 'Retrieve the balance',
    description: "What the key's mode has received, paid in fees and netted, per network and currency and in USD, from the double-entry ledger.",
    response: BalanceObject,
  }),
  listTransactions: defineOperation({
    operationId: 'listBalanceTransactions',
    method: 'get',
    path: '/balance/transactions',
    tag,
    resource: 'balance',
    summary: 'List balance transactions',
    description:
      'The ledger, one object per booking: a completed deposit (`deposit`), its undoing after a reorg (`reversal`) or a completed payout or refund (`payout`), newest first, with the amount, the fee and the net in the currency and in USD.',
    query: ListBalanceTransactionsQuery,
    response: listOf(BalanceTransactionObject),
  }),
  exportTransactions: defineOperation({
    operationId: 'exportBalanceTransactions',
    method: 'get',
    path: '/balance/transactions/export',
    tag,
    resource: 'balance',
    summary: 'Export balance transactions as CSV',
    description: `Every balance transaction the filters match (those of the list, without paging), newest first, as a CSV file streamed as it is read, whatever its size: columns ${balanceTransactionCsvColumns.map((column) => `\`${column}\``).join(', ')}. Amounts are exact decimal strings in the currency (USD with cents), times ISO 8601 in UTC.`,
    query: ExportBalanceTransactionsQuery,
    response: BalanceTransactionObject,
    streams: 'text/csv',
  }),
  retrieveTransaction: defineOperation({
    operationId: 'retrieveBalanceTransaction',
    method: 'get',
    path: '/balance/transactions/:id',
    pathId: 'ledgerTransaction',
    tag,
    resource: 'balance',
    summary: 'Retrieve a balance transaction',
    response: BalanceTransactionObject,
  }),
};
