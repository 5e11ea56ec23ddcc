/**
 * fast-check arbitraries for fuzzing the API's edge: hostile strings and JSON values, near-valid
 * bodies (a valid body with one or two fields broken), wholly random bodies and query strings, and
 * the JSON text that carries them, exotic number literals included.
 */
import { isIP } from 'node:net';
import fc from 'fast-check';
import { isPublicAddress } from '../../src/webhooks/ssrf';

/** A JSON literal written as is: numbers JSON.stringify cannot produce (`-0`, `1e400`, `1.0`) and `__proto__` keys. */
export class RawJson {
  constructor(readonly text: string) {}
}

/** JSON text for a generated value; RawJson parts go in verbatim. Lone surrogates come out as `\udXXX` escapes. */
export function toJsonText(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJsonText).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([key, item]) => `${JSON.stringify(key)}:${toJsonText(item)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Every string anywhere in a generated value, object keys and raw JSON text included (iteratively: bodies nest deep). */
function stringsIn(root: unknown): string[] {
  const strings: string[] = [];
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value === 'string') strings.push(value);
    else if (value instanceof RawJson) strings.push(value.text);
    else if (Array.isArray(value)) pending.push(...value);
    else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) pending.push(key, item);
    }
  }
  return strings;
}

/**
 * Whether a body is safe to send: no string in it is an http(s) URL the API could accept and then
 * reach, or look up in DNS, off this machine. Its hosts must be literal non-public addresses or
 * localhost; a body with any other is skipped (fc.pre), whether or not the API would refuse it.
 * Raw body text is checked as it is and, when it parses, as JSON.
 */
export function onlyLocalUrls(value: unknown): boolean {
  if (typeof value === 'string' || value instanceof Uint8Array) {
    const text = typeof value === 'string' ? value : Buffer.from(value).toString('utf8');
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not JSON: the text alone is what the API could read.
    }
    return isLocalUrlOrNone(text) && stringsIn(parsed).every(isLocalUrlOrNone);
  }
  return stringsIn(value).every(isLocalUrlOrNone);
}

function isLocalUrlOrNone(text: string): boolean {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return true;
  }
  // The API refuses every other scheme before it resolves anything.
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return true;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || (isIP(host) !== 0 && !isPublicAddress(host));
}

/** Strings that are almost numbers, or numbers written the way a parser might accept by accident. */
export const exoticNumberStrings = fc.constantFrom(
  '1e5',
  '1E2',
  '0x10',
  '0b1',
  '0o7',
  '-0',
  '-1',
  '+1',
  ' 1',
  '1 ',
  '\t1',
  '1\n',
  '\u00a01',
  '1.',
  '.5',
  '0.1e1',
  '00',
  '01',
  '1_000',
  '1,5',
  'Infinity',
  '-Infinity',
  'NaN',
  '１',
  '١٢',
  '0',
  '0.0',
  '100',
  '101',
  '9'.repeat(81),
  '1'.repeat(100),
  '1'.repeat(101),
  `0.${'0'.repeat(97)}1`,
  '1.0000000000000000001',
  '115792089237316195423570985008687907853269984665640564039457584007913129639936',
);

/** Number literals JSON allows that JSON.stringify never writes. */
export const exoticNumberLiterals = fc
  .constantFrom('-0', '1e400', '-1e400', '1e-400', '1E2', '1.0', '60.0', '0.5', '-1', '9007199254740993', '1e21', '123456789012345678901234567890')
  .map((text) => new RawJson(text));

/** Strings Postgres or UTF-8 cannot hold, strings past every length limit, and plain odd ones. */
export const hostileStrings: fc.Arbitrary<string> = fc.oneof(
  exoticNumberStrings,
  fc.constantFrom(
    '',
    ' ',
    '\t',
    '\u0000',
    'a\u0000b',
    '\ud800',
    '\udfff',
    'x\ud83d',
    '\ude00y',
    '\ud83d\ude00',
    '\ufeff',
    '\u202e',
    '%00',
    '\\u0000',
    'null',
    'true',
  ),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ maxLength: 40 }),
  // Past 16, 40, 64, 100, 256, 500, 512, 2048, 4096 characters; and past the 64 KB body limit.
  fc.constantFrom(17, 41, 65, 101, 257, 501, 513, 2049, 4097, 70_000).map((length) => 'a'.repeat(length)),
);

const hostileLeaf: fc.Arbitrary<unknown> = fc.oneof(
  hostileStrings,
  exoticNumberLiterals,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.jsonValue({ maxDepth: 2 }),
);

/** Object keys that JavaScript treats specially, or that are empty, huge or not quite text. */
export const hostileKeys: fc.Arbitrary<string> = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', ''), hostileStrings);

/** Any value a field could be given: a hostile leaf, or an array or object of them. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: hostileLeaf },
  fc.array(hostileLeaf, { maxLength: 4 }),
  fc.dictionary(hostileKeys, hostileLeaf, { maxKeys: 4 }),
  // An own `__proto__` key, which an object literal cannot carry through JSON.stringify-like code.
  hostileLeaf.map((value) => new RawJson(`{"__proto__":${toJsonText(value)}}`)),
);

type Body = Record<string, unknown>;

/** One edit of a valid body: a known field set to a hostile value or null, removed, or an unknown field added. */
const mutation = (fields: readonly string[]): fc.Arbitrary<(body: Body) => Body> => {
  const unknownField = fc
    .tuple(
      hostileKeys.filter((key) => !fields.includes(key)),
      hostileValue,
    )
    // Spread, not assignment: an own `__proto__` key stays a key instead of becoming the prototype.
    .map(([field, value]) => (body: Body) => ({ ...body, ...Object.fromEntries([[field, value]]) }));
  if (fields.length === 0) return unknownField;
  const field = fc.constantFrom(...fields);
  return fc.oneof(
    fc.tuple(field, hostileValue).map(([name, value]) => (body: Body) => ({ ...body, [name]: value })),
    field.map((name) => (body: Body) => ({ ...body, [name]: null })),
    field.map((name) => (body: Body) => Object.fromEntries(Object.entries(body).filter(([key]) => key !== name))),
    unknownField,
  );
};

/** A valid body with one or two edits. `fields` are the route's own field names. */
export function nearValidBody(valid: fc.Arbitrary<Body>, fields: readonly string[]): fc.Arbitrary<Body> {
  return fc.tuple(valid, fc.array(mutation(fields), { minLength: 1, maxLength: 2 })).map(([body, edits]) => edits.reduce((edited, edit) => edit(edited), body));
}

/** Bodies with no relation to a valid one: any JSON, objects of the route's fields with any values, or not JSON at all. */
export function randomBody(fields: readonly string[]): fc.Arbitrary<{ text: string | Uint8Array; contentType?: string }> {
  const json = (value: fc.Arbitrary<unknown>) => value.map((body) => ({ text: toJsonText(body), contentType: 'application/json' }));
  return fc.oneof(
    json(fc.jsonValue()),
    json(fc.dictionary(fc.oneof(fc.constantFrom(...fields), hostileKeys), hostileValue, { maxKeys: 5 })),
    fc.string({ unit: 'binary', maxLength: 200 }).map((text) => ({ text, contentType: 'application/json' })),
    fc.uint8Array({ maxLength: 200 }).map((text) => ({ text, contentType: 'application/json' })),
    fc
      .tuple(
        fc.jsonValue(),
        fc.constantFrom(undefined, 'text/plain', 'application/json; charset=latin1', 'application/x-www-form-urlencoded', 'application/vnd.api+json'),
      )
      .map(([body, contentType]) => ({ text: JSON.stringify(body) ?? '', ...(contentType ? { contentType } : {}) })),
    fc
      .constantFrom(
        '{',
        '{"a":1,}',
        '{"amount":"1","amount":2}',
        '\ufeff{}',
        '[]',
        'null',
        '{}garbage',
        '{"a":"\\ud800"}',
        '{"a":"\\u0000"}',
        // Nested deeper than any recursive walk over the body should go, inside the 64 KB limit.
        `{"metadata":${'['.repeat(30_000)}${']'.repeat(30_000)}}`,
        `{"${fields[0]}":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`,
      )
      .map((text) => ({
        text,
        contentType: 'application/json',
      })),
  );
}

/** A query string, as sent after `?`: known and unknown keys, repeated keys, odd values and raw, malformed escapes. */
export function queryString(known: Record<string, fc.Arbitrary<string>>): fc.Arbitrary<string> {
  const keys = Object.keys(known);
  const value = (key: string) =>
    fc.oneof(
      known[key] ?? hostileStrings,
      hostileStrings.filter((text) => text.length < 1000),
    );
  const pair: fc.Arbitrary<[string, string]> = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...keys).chain((key) => value(key).map((text): [string, string] => [key, text])) },
    fc.tuple(
      fc.oneof(fc.constantFrom('ending_before', 'expand[]', 'limit[]', 'LIMIT', 'page', 'created', '__proto__', 'constructor'), fc.string({ maxLength: 20 })),
      fc.string({ maxLength: 20 }),
    ),
  );
  const encoded = fc.array(pair, { maxLength: 5 }).map((pairs) => new URLSearchParams(pairs).toString());
  // Sent unencoded: fetch escapes spaces and quotes but leaves `%`, so `%ZZ` and `%ED%A0%80` reach the server as they are.
  const raw = fc.oneof(
    fc.constantFrom(
      'limit=%ZZ',
      'limit=%',
      'limit=%00',
      'starting_after=%00',
      'starting_after=%ED%A0%80',
      'type=%E0%A4%A',
      'limit=1&limit=2',
      'limit[]=1',
      '&&&',
      '=',
      'limit',
    ),
    fc.stringMatching(/^[a-z_%=&0-9A-F[\]]{0,40}$/),
  );
  // Node answers a request line past its 16 KB header limit with a bare 431 before the app sees it.
  return fc.oneof({ weight: 3, arbitrary: encoded }, raw).filter((query) => query.length < 8000);
}
