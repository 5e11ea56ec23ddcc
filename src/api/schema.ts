import { z } from 'zod';

/**
 * A string field of a request: Postgres cannot store NUL, so it is refused here with a 400 rather
 * than failing later in the database.
 */
export function text() {
  return z.string().refine((value) => !value.includes('\u0000'), 'must not contain NUL characters');
}
