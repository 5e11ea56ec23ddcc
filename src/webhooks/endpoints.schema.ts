import { z } from 'zod';
import { eventTypes } from '../domain/events';
import { paginationParams } from '../api/pagination';
import { text } from '../api/schema';

/** A list of event types, or ["*"] for every type. */
const EventTypes = z
  .array(z.enum([...eventTypes, '*']))
  .min(1)
  .max(eventTypes.length + 1)
  .refine((events) => !events.includes('*') || events.length === 1, 'use ["*"] alone, or list event types')
  .transform((events) => [...new Set(events)]);

export const CreateEndpointBody = z.strictObject({
  url: text().min(1).max(4096),
  events: EventTypes,
  description: text().max(512).optional(),
});

export const UpdateEndpointBody = z.strictObject({
  url: text().min(1).max(4096).optional(),
  events: EventTypes.optional(),
  description: text().max(512).nullable().optional(),
  disabled: z.boolean().optional(),
});

export const ListEndpointsQuery = z.strictObject({ ...paginationParams });
