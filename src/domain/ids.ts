/**
 * Object ids: a type prefix, then 26 Crockford base32 characters (48-bit millisecond time,
 * 80 random bits), as in ULID. Ids of one type therefore sort by creation time, which cursor
 * pagination relies on. Uses node:crypto, so workflows must not generate ids themselves.
 */
import { randomBytes } from 'node:crypto';

export const idPrefixes = {
  merchant: 'mch',
  apiKey: 'key',
  request: 'req',
  customer: 'cus',
  event: 'evt',
  deposit: 'dep',
  ledgerTransaction: 'ltx',
  webhookEndpoint: 'we',
  webhookDelivery: 'wd',
  order: 'ord',
  sweep: 'swp',
  sentTransaction: 'stx',
  holdingsTransaction: 'htx',
  operatorEvent: 'oev',
  payout: 'po',
} as const;

export type IdKind = keyof typeof idPrefixes;

const alphabet = '0123456789abcdefghjkmnpqrstvwxyz';

export function newId(kind: IdKind, now: number = Date.now()): string {
  const time = encodeTime(now);
  const random = randomBytes(10);
  let bits = 0n;
  for (const byte of random) bits = (bits << 8n) | BigInt(byte);
  let tail = '';
  for (let i = 0; i < 16; i++) {
    tail = alphabet[Number(bits & 31n)] + tail;
    bits >>= 5n;
  }
  return `${idPrefixes[kind]}_${time}${tail}`;
}

/**
 * The smallest id of `kind` made at `time` (ms): every id made then or later sorts at or after it,
 * every id made earlier before it, so an id range can stand for a time range.
 */
export function idFloor(kind: IdKind, time: number): string {
  return `${idPrefixes[kind]}_${encodeTime(Math.max(0, time))}${'0'.repeat(16)}`;
}

/** When an id was made (ms), from its time part. */
export function timeOfId(id: string): number {
  const time = id.slice(id.indexOf('_') + 1, id.indexOf('_') + 11);
  let value = 0;
  for (const character of time) value = value * 32 + alphabet.indexOf(character);
  return value;
}

function encodeTime(now: number): string {
  let time = '';
  let remaining = now;
  for (let i = 0; i < 10; i++) {
    time = alphabet[remaining % 32] + time;
    remaining = Math.floor(remaining / 32);
  }
  return time;
}

/**
 * What an id of `kind` looks like, exactly: its prefix, `_`, then 26 characters of the lowercase
 * alphabet above (`i`, `l`, `o` and `u` are not in it). The API refuses any other text where an
 * id of this kind goes, and the OpenAPI document publishes this pattern, so a client can tell a
 * malformed id from an unknown one without asking.
 */
export function idPattern(kind: IdKind): RegExp {
  return new RegExp(`^${idPrefixes[kind]}_[0-9a-hjkmnp-tv-z]{26}$`);
}

export function isId(kind: IdKind, value: string): boolean {
  return idPattern(kind).test(value);
}
