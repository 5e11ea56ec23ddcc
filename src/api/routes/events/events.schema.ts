import { z } from 'zod';
import { webhookEventTypes } from '../../../domain/webhook-schedule';
import { paginationParams } from '../../pagination';

export const ListEventsQuery = z.strictObject({
  ...paginationParams,
  type: z.enum(webhookEventTypes).optional(),
});
