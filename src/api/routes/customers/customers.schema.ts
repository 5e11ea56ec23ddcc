import { z } from 'zod';
import { paginationParams } from '../../pagination';

/** Stripe's metadata limits: 50 keys, keys up to 40 characters, values up to 500. */
export const Metadata = z
  .record(z.string().min(1).max(40), z.string().max(500))
  .refine((metadata) => Object.keys(metadata).length <= 50, 'metadata may have at most 50 keys');

export const CreateCustomerBody = z.strictObject({
  email: z.email().max(512).optional(),
  name: z.string().trim().min(1).max(256).optional(),
  external_id: z.string().trim().min(1).max(256).optional(),
  metadata: Metadata.optional(),
});

export const ListCustomersQuery = z.strictObject({ ...paginationParams });

export const CustomerIdParam = z.string().regex(/^cus_[0-9a-z]{26}$/);
