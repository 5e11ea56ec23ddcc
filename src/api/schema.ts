import { z } from 'zod';
import { idPattern, idPrefixes, type IdKind } from '../domain/ids';
import { currenciesOf, currencyOn, networkNames } from '../domain/networks';

/**
 * A string field of a request. Postgres cannot store NUL, and a lone UTF-16 surrogate (valid in
 * JSON, `"\ud800"`) is no character at all: both are refused here with a 400 rather than failing
 * later in the database or being stored as U+FFFD. A pattern rather than a refinement, so the
 * document says so too (JSON Schema patterns are Unicode-aware, as ajv reads them).
 */
export function text() {
  return z.string().regex(STORABLE, 'must not contain NUL characters or unpaired UTF-16 surrogates');
}

/** With the u flag a paired surrogate is one astral character, outside the range: only an unpaired one is in it. */
const STORABLE = /^[^\u0000\ud800-\udfff]*$/u;

/**
 * A `text()` that is trimmed, and so must hold something besides white space (`\s` is what trim
 * removes): one pattern, so the document can say it, where a refinement after the trim could not.
 */
export function trimmedText() {
  return z.string().regex(NON_BLANK, 'must contain a character other than white space, and no NUL characters or unpaired UTF-16 surrogates').trim();
}

const NON_BLANK = /^[^\u0000\ud800-\udfff]*[^\s\u0000\ud800-\udfff][^\u0000\ud800-\udfff]*$/u;

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
    z
      .record(
        text()
          .min(1)
          .max(40)
          .meta({ not: { const: '__proto__' } }),
        text().max(500),
      )
      .refine((metadata) => Object.keys(metadata).length <= 50, 'metadata may have at most 50 keys'),
  )
  // The key count is a refinement, which zod does not publish: the document says it here.
  .meta({ description: 'Your own key-value pairs: up to 50 keys of up to 40 characters, values up to 500.', maxProperties: 50 });

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

/**
 * An id of one kind of object, in a path, a query, a body or an answer: `cus_01j…`. Its pattern is
 * the one the API checks (ids.ts), so the document says what a well-formed id is: a malformed one
 * is a 400 naming the field, a well-formed one that names nothing a 404.
 */
export function idOf(kind: IdKind) {
  return z.string().regex(idPattern(kind), `must be an id of the form ${idPrefixes[kind]}_ followed by 26 lowercase letters and digits`);
}

/** A timestamp as the API shows it: ISO 8601 in UTC, millisecond precision. */
export const Timestamp = z.iso.datetime();

/** A decimal string in the asset's (or USD's) units, exact: `"25.5"`. Never a JSON number on a money path. */
export const DecimalString = z.string().regex(/^-?\d+(\.\d+)?$/);

/**
 * An amount a request sends: a plain decimal string above zero (`"25.5"`, `"0.000001"`), no sign,
 * exponent, spaces or leading zeros, with at most `decimals` places. 59 whole digits at most: then
 * even at 18 decimals it fits the 256-bit word every chain's amounts fit, so no amount the pattern
 * allows is refused for its size.
 */
export function amountPattern(decimals = 18, wholeDigits = 59): RegExp {
  // Below 1: `0.`, k zeros, a non-zero digit, and what places are left. Spelled out per k, not with a
  // lookahead, which generators of values from the document (fast-check's included) cannot read.
  const fractions = Array.from({ length: decimals }, (_, zeros) => `${zeros ? `0{${zeros}}` : ''}[1-9]\\d{0,${decimals - 1 - zeros}}`);
  return new RegExp(`^([1-9]\\d{0,${wholeDigits - 1}}(\\.\\d{1,${decimals}})?|0\\.(${fractions.join('|')}))$`);
}

/** An amount field; its precision is the asset's (or the fiat's), which `assetChoices` says per network and currency. */
export function Amount(decimals = 18, wholeDigits = 59) {
  return z.string().regex(amountPattern(decimals, wholeDigits), `must be a decimal string above zero such as "25.50", with at most ${decimals} decimal places`);
}

/**
 * The document's word for what a zod refinement checks across fields: one branch per network and
 * currency that network carries, and, when `amount` is given, its precision in that currency. A
 * body's `oneOf` of these says which pairs exist, which a plain enum per field cannot.
 */
export function assetChoices(options: { amount: boolean }): Array<Record<string, unknown>> {
  return networkNames.flatMap((network) =>
    currenciesOf(network).map((currency) => ({
      required: ['network', 'currency'],
      properties: {
        network: { const: network },
        currency: { const: currency },
        ...(options.amount ? { amount: { pattern: amountPattern(currencyOn(network, currency)!.decimals).source } } : {}),
      },
    })),
  );
}

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
export function deletedObject<Name extends string>(object: Name, kind: IdKind) {
  return z.object({ id: idOf(kind), object: z.literal(object), deleted: z.literal(true) });
}
