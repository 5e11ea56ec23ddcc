import { z } from 'zod';
import { defineOperation } from '../api/operation';
import { DecimalString } from '../api/schema';

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
        net: DecimalString,
        deposit_count: z.number().int(),
      }),
    ),
    total_received_usd: DecimalString,
    total_fees_usd: DecimalString,
    net_usd: DecimalString,
  })
  .meta({ id: 'Balance' });
export type BalanceObject = z.infer<typeof BalanceObject>;

export const balanceOperations = {
  retrieve: defineOperation({
    operationId: 'retrieveBalance',
    method: 'get',
    path: '/balance',
    tag: 'Balance',
    resource: 'balance',
    summary: 'Retrieve the balance',
    description: "What the key's mode has received, paid in fees and netted, per network and currency and in USD, from the double-entry ledger.",
    response: BalanceObject,
  }),
};
