import { z } from 'zod';
import { paginationParams } from '../api/pagination';
import { text } from '../api/schema';

/**
 * Stripe's metadata limits: 50 keys, keys up to 40 characters, values up to 500. `__proto__` is
 * refused rather than silently dropped by the object it would land in.
 */
export const Metadata = z
  .unknown()
  .superRefine((value, ctx) => {
    if (typeof value === 'object' && value !== null && Object.hasOwn(value, '__proto__')) {
      ctx.addIssue({ code: 'custom', message: 'is a reserved key', path: ['__proto__'] });
    }
  })
  .pipe(z.record(text().min(1).max(40), text().max(500)).refine((metadata) => Object.keys(metadata).length <= 50, 'metadata may have at most 50 keys'));

export const CreateCustomerBody = z.strictObject({
  email: z.email().max(512).optional(),
  name: text().trim().min(1).max(256).optional(),
  external_id: text().trim().min(1).max(256).optional(),
  metadata: Metadata.optional(),
});

export const ListCustomersQuery = z.strictObject({ ...paginationParams });
