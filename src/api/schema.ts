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
  .preprocess(
    (value, ctx) => {
      if (typeof value === 'object' && value !== null && Object.hasOwn(value, '__proto__')) {
        ctx.addIssue({ code: 'custom', message: 'is a reserved key', path: ['__proto__'], input: value });
      }
      return value;
    },
    z.record(text().min(1).max(40), text().max(500)).refine((metadata) => Object.keys(metadata).length <= 50, 'metadata may have at most 50 keys'),
  )
  .meta({ description: 'Your own key-value pairs: up to 50 keys of up to 40 characters, values up to 500.' });

/**
 * An update body that names the fields the API sets itself (`id`, `created_at`…) when a request
 * tries to set one: a 400 `parameter_read_only` says what is wrong more plainly than the
 * `parameter_unknown` any other field not in `body` gets.
 */
export function refusingReadOnly<Body extends z.ZodType>(readOnly: readonly string[], body: Body) {
  return z.preprocess((value, ctx) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
    const field = readOnly.find((name) => Object.hasOwn(value, name));
    if (field !== undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'is read-only: inflow sets it, and no request can change it.',
        path: [field],
        input: value,
        params: { code: 'parameter_read_only' },
      });
    }
    return value;
  }, body);
}

/** The body of an action that takes no parameters (`{}`, or none): any field in it is unknown, a 400 as on every route. */
export const NoParameters = z.strictObject({});

/** An object's id in a path or a reference, as the API shows it: `cus_01j…`. */
export const Id = z.string();

/** A timestamp as the API shows it: ISO 8601 in UTC, millisecond precision. */
export const Timestamp = z.iso.datetime();

/** A decimal string in the asset's (or USD's) units, exact: `"25.5"`. Never a JSON number on a money path. */
export const DecimalString = z.string().regex(/^-?\d+(\.\d+)?$/);

/** The error shape every failure answers with (API.md): `{"error": {"type", "code", "message", "param"?}}`. */
export const ErrorObject = z
  .object({
    error: z.object({
      type: z.enum(['invalid_request_error', 'authentication_error', 'permission_error', 'idempotency_error', 'rate_limit_error', 'api_error']),
      code: z.string(),
      message: z.string(),
      param: z.string().optional(),
    }),
  })
  .meta({ id: 'Error' });

/** A page of a list, newest first; pass the last id as `starting_after` for the next page while `has_more`. */
export function listOf<Item extends z.ZodType>(item: Item) {
  return z.object({ object: z.literal('list'), data: z.array(item), has_more: z.boolean() });
}

/** What a DELETE answers. */
export function deletedObject<Name extends string>(object: Name) {
  return z.object({ id: Id, object: z.literal(object), deleted: z.literal(true) });
}
