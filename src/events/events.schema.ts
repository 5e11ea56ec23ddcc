import { z } from 'zod';
import { eventTypes, type EventType } from '../domain/events';
import { paginationParams } from '../api/pagination';

export const ListEventsQuery = z.strictObject({
  ...paginationParams,
  type: z.enum(eventTypes).optional(),
});

/**
 * `GET /events/stream?types=deposit.*,order.completed`: event types and `group.*` patterns, comma
 * separated, each naming at least one type of the catalogue; the types they match, or every type
 * when absent.
 */
export const StreamEventsQuery = z.strictObject({
  types: z
    .string()
    .max(1000)
    .transform((list, ctx) => {
      const matched = new Set<EventType>();
      for (const pattern of list.split(',').map((item) => item.trim())) {
        const types = eventTypes.filter((type) => pattern === '*' || type === pattern || (pattern.endsWith('.*') && type.startsWith(pattern.slice(0, -1))));
        if (types.length === 0) {
          ctx.addIssue({ code: 'custom', message: `'${pattern}' matches no event type (e.g. deposit.*, ${eventTypes[0]}, or *)` });
          return z.NEVER;
        }
        types.forEach((type) => matched.add(type));
      }
      return [...matched];
    })
    .optional(),
});
