import { z } from 'zod';
import { depositStatuses } from '../domain/deposit-state';
import { networkNames } from '../domain/networks';
import { paginationParams } from '../api/pagination';
import { text } from '../api/schema';

export const ListDepositsQuery = z.strictObject({
  ...paginationParams,
  customer_id: text().min(1).max(64).optional(),
  status: z.enum(depositStatuses).optional(),
  network: z.enum(networkNames).optional(),
});

/** Pays a customer's address (network and currency required) or an order's (they default to the order's). */
export const SimulateDepositBody = z
  .strictObject({
    customer_id: text().min(1).max(64).optional(),
    order_id: text().min(1).max(64).optional(),
    network: z.enum(networkNames).optional(),
    currency: text().min(1).max(16).optional(),
    // A decimal string; its precision is checked against the currency once the pair is known.
    amount: text().min(1).max(100),
    outcome: z.enum(['completed', 'failed']).default('completed'),
  })
  .superRefine((body, ctx) => {
    if ((body.customer_id === undefined) === (body.order_id === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['customer_id'], message: 'send customer_id, or order_id to pay an order, not both' });
    } else if (body.customer_id !== undefined) {
      for (const field of ['network', 'currency'] as const) {
        if (body[field] === undefined) ctx.addIssue({ code: 'custom', path: [field], message: 'is required with customer_id' });
      }
    }
  });
