/**
 * Secret API keys: `sk_test_` or `sk_live_` followed by 43 base62 characters (256 random bits).
 * The prefix carries the mode; the database holds only the SHA-256 of the whole key.
 */
import { createHash, randomBytes } from 'node:crypto';
import { modes, type Mode } from './mode';

const base62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SECRET_LENGTH = 43;
const keyPattern = new RegExp(`^sk_(${modes.join('|')})_[0-9A-Za-z]{${SECRET_LENGTH}}$`);

export function generateApiKey(mode: Mode): string {
  let value = BigInt(`0x${randomBytes(32).toString('hex')}`);
  let secret = '';
  for (let i = 0; i < SECRET_LENGTH; i++) {
    secret += base62[Number(value % 62n)];
    value /= 62n;
  }
  return `sk_${mode}_${secret}`;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** The mode a well-formed key claims, or undefined for anything else. */
export function modeOfKey(key: string): Mode | undefined {
  const match = keyPattern.exec(key);
  return match ? (match[1] as Mode) : undefined;
}

/** What may be shown or logged: `sk_test_…Ab3x`. */
export function redactApiKey(key: string): string {
  return `${key.slice(0, 8)}…${key.slice(-4)}`;
}
