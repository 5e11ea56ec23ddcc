import { z } from 'zod';
import { eventTypes } from '../domain/events';
import { paginationParams } from '../api/pagination';

export const ListEventsQuery = z.strictObject({
  ...paginationParams,
  type: z.enum(eventTypes).optional(),
});
