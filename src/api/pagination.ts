import { z } from 'zod';
import { InvalidRequestError } from '../domain/errors';
import type { IdKind } from '../domain/ids';
import { idOf } from './schema';

/** The cursor parameters every list endpoint accepts: limit 1..100 (default 10), starting_after (an id of the listed kind). */
export function paginationParams(kind: IdKind) {
  return {
    // Digits only: `1e1`, `0x10` or ` 5` are not a limit, however Number() would read them.
    limit: z
      .string()
      .regex(/^(100|[1-9]\d?)$/, 'must be a whole number from 1 to 100')
      .transform(Number)
      .meta({ description: 'How many objects to return: a whole number from 1 to 100 (default 10).' })
      .optional()
      .transform((limit) => limit ?? 10),
    starting_after: idOf(kind)
      .meta({
        description:
          'An id of the listed kind: the page starts after it (pass the last id of the previous page). One that names no object you can see is a 400 `resource_missing`.',
      })
      .optional(),
    'created[gte]': createdBound('Only objects created at or after this time'),
    'created[lt]': createdBound('Only objects created before this time'),
  };
}

/**
 * A bound on `created_at`, the time each object shows. (Not an id range: an id is made by the
 * code, sometimes long before its row is written, as a deposit's is by the chain watcher.)
 */
function createdBound(description: string) {
  return z.iso
    .datetime({ offset: true })
    .meta({ description: `${description}: ISO 8601 with its offset, e.g. \`2026-12-01T00:00:00Z\`.` })
    .transform((time) => new Date(time))
    .optional();
}

/** What a list query reads: at most `limit`, newest first, after the cursor `startingAfter`, created in [createdFrom, createdBefore). */
export interface ListWindow {
  limit: number;
  startingAfter?: string | undefined;
  createdFrom?: Date | undefined;
  createdBefore?: Date | undefined;
}

export interface ListObject<T> {
  object: 'list';
  data: T[];
  has_more: boolean;
}

/**
 * One page, newest first. Ids sort by creation time, so the cursor is the last id seen; it must
 * name an object the caller can see (else a 400, never an empty page that hides a typo).
 */
export async function paginate<Row extends { id: string }, Item>(
  page: { limit: number; starting_after?: string | undefined; 'created[gte]'?: Date | undefined; 'created[lt]'?: Date | undefined },
  source: {
    fetch(window: ListWindow): Promise<Row[]>;
    exists(id: string): Promise<boolean>;
    present(rows: NoInfer<Row>[]): Promise<Item[]> | Item[];
  },
): Promise<ListObject<Item>> {
  if (page.starting_after !== undefined && !(await source.exists(page.starting_after))) {
    throw new InvalidRequestError(`No such object for starting_after: '${page.starting_after}'`, 'starting_after', 'resource_missing');
  }
  const rows = await source.fetch({
    limit: page.limit + 1,
    startingAfter: page.starting_after,
    createdFrom: page['created[gte]'],
    createdBefore: page['created[lt]'],
  });
  const data = await source.present(rows.slice(0, page.limit));
  return { object: 'list', data, has_more: rows.length > page.limit };
}
