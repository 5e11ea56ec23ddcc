import { z } from 'zod';

/**
 * A string field of a request. Postgres cannot store NUL, and a lone UTF-16 surrogate (valid in
 * JSON, `"\ud800"`) is no character at all: both are refused here with a 400 rather than failing
 * later in the database or being stored as U+FFFD.
 */
export function text() {
  return z
    .string()
    .refine((value) => !value.includes('\u0000'), 'must not contain NUL characters')
    .refine((value) => !LONE_SURROGATE.test(value), 'must not contain unpaired UTF-16 surrogates');
}

/** With the u flag a paired surrogate is one astral character: only an unpaired one is category Cs. */
const LONE_SURROGATE = /\p{Cs}/u;

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

/** The body of an action that takes no parameters (`{}`, or none): any field in it is unknown, a 400 as on every route. */
export const NoParameters = z.strictObject({});
