import { z } from 'zod';
import { paginationParams } from '../api/pagination';
import { Metadata, text } from '../api/schema';

export const CreateCustomerBody = z.strictObject({
  email: z.email().max(512).optional(),
  name: text().trim().min(1).max(256).optional(),
  external_id: text().trim().min(1).max(256).optional(),
  metadata: Metadata.optional(),
});

export const ListCustomersQuery = z.strictObject({ ...paginationParams });
