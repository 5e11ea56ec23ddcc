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

export const SimulateDepositBody = z.strictObject({
  customer_id: text().min(1).max(64),
  network: z.enum(networkNames),
  currency: text().min(1).max(16),
  // A decimal string; its precision is checked against the currency once the pair is known.
  amount: text().min(1).max(100),
  outcome: z.enum(['completed', 'failed']).default('completed'),
});
