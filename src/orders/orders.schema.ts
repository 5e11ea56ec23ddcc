import { z } from 'zod';
import { paginationParams } from '../api/pagination';
import { Metadata, text } from '../api/schema';
import { fiatCurrencies } from '../domain/exchange';
import { networkNames } from '../domain/networks';
import { callbackStatuses, DEFAULT_EXPIRES_IN_SECONDS, MAX_EXPIRES_IN_SECONDS, MIN_EXPIRES_IN_SECONDS, orderStatuses } from '../domain/order-state';

export const CreateOrderBody = z
  .strictObject({
    external_id: text().trim().min(1).max(256),
    network: z.enum(networkNames),
    currency: text().min(1).max(16),
    // Decimal strings; their precision is checked once the asset (or the fiat's cents) is known.
    amount: text().min(1).max(100).optional(),
    fiat_amount: text().min(1).max(100).optional(),
    fiat_currency: z.enum(fiatCurrencies).optional(),
    customer_id: text().min(1).max(64).optional(),
    expires_in: z.number().int().min(MIN_EXPIRES_IN_SECONDS).max(MAX_EXPIRES_IN_SECONDS).default(DEFAULT_EXPIRES_IN_SECONDS),
    callback_url: text().min(1).max(2048).optional(),
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
  });

export const ListOrdersQuery = z.strictObject({
  ...paginationParams,
  status: z.enum(orderStatuses).optional(),
  external_id: text().min(1).max(256).optional(),
});
