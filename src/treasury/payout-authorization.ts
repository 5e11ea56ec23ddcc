/**
 * A payout's authorization: an HMAC-SHA256, keyed with INFLOW_PAYOUT_AUTHORIZATION_SECRET, over
 * the exact terms of one payout (docs/treasury.md, "The policy").
 *
 * Why: the API decides that a merchant is paid, and writes the payout's row. The worker then
 * builds the transaction and asks the signer to sign it. If the signer trusted the worker about
 * what to pay, someone who took over the worker could pay anyone anything from the hot wallet.
 * So the API authorises the payout's exact terms (its id, mode, network, currency, amount and
 * destination) with a key that the API and the signer hold and the worker never does. The
 * worker passes the authorization on with the request, and the signer signs only a transaction
 * that carries out exactly those terms. A worker taken over can then only execute payouts the
 * API authorised, exactly as authorised; it can neither make one up nor change one's amount or
 * destination. (That it cannot execute one twice is the signer's own rule: it signs one nonce
 * per payout id.)
 *
 * The MAC is over a canonical text: `inflow-payout-v1` and the six fields in this order, joined
 * by `\n`. No field may hold a line break or another control character, so that the text reads
 * back into one set of terms only. The amount is in base units as canonical decimal text (no
 * sign, no leading zeros, no fraction); the destination is the text the API was given (an EVM
 * address in its EIP-55 checksum, or Tron's `T…`), and it must reach the signer as the same text.
 *
 * Pure: node:crypto only. The API and the signer both import it; the worker never needs it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface PayoutTerms {
  /** The payout's id, as the API wrote it. */
  payout_id: string;
  mode: 'test' | 'live';
  network: string;
  /** e.g. `USDT`, `ETH`. */
  currency: string;
  /** Base units, decimal text: `12500000` (12.5 USDT). */
  amount: string;
  /** As given: an EVM address in its EIP-55 checksum (`0x…`), or a Tron address (`T…`). */
  destination: string;
}

/** The shortest INFLOW_PAYOUT_AUTHORIZATION_SECRET taken (e.g. `openssl rand -hex 32`). */
export const PAYOUT_AUTHORIZATION_SECRET_MIN_LENGTH = 32;

const VERSION = 'inflow-payout-v1';
const FIELDS = ['payout_id', 'mode', 'network', 'currency', 'amount', 'destination'] as const;
const AUTHORIZATION = /^[0-9a-f]{64}$/;

export class PayoutAuthorizationError extends Error {
  override readonly name = 'PayoutAuthorizationError';
}

/** The text that is authorised: the version and the six fields, one a line. Throws PayoutAuthorizationError on terms that are not well formed. */
export function payoutAuthorizationText(terms: PayoutTerms): string {
  for (const field of FIELDS) {
    const value: unknown = terms[field];
    if (typeof value !== 'string' || value.length === 0) throw new PayoutAuthorizationError(`payout terms: ${field} must be non-empty text`);
    if (/[\u0000-\u001f\u007f]/.test(value)) throw new PayoutAuthorizationError(`payout terms: ${field} must hold no line break or other control character`);
  }
  if (terms.mode !== 'test' && terms.mode !== 'live') throw new PayoutAuthorizationError('payout terms: mode must be "test" or "live"');
  if (!/^(0|[1-9]\d{0,77})$/.test(terms.amount))
    throw new PayoutAuthorizationError(`payout terms: amount must be base units as decimal text without leading zeros, e.g. "12500000", not "${terms.amount}"`);
  return [VERSION, ...FIELDS.map((field) => terms[field])].join('\n');
}

function key(secret: string): string {
  if (typeof secret !== 'string' || secret.length < PAYOUT_AUTHORIZATION_SECRET_MIN_LENGTH)
    throw new PayoutAuthorizationError(`the payout authorization secret must be at least ${PAYOUT_AUTHORIZATION_SECRET_MIN_LENGTH} characters`);
  return secret;
}

function mac(secret: string, text: string): Buffer {
  return createHmac('sha256', key(secret)).update(text, 'utf8').digest();
}

/**
 * The authorization of `terms`: HMAC-SHA256 (hex, lower case, 64 characters) keyed with `secret`.
 * Throws PayoutAuthorizationError on a secret shorter than 32 characters or terms that are not
 * well formed (see payoutAuthorizationText).
 */
export function payoutAuthorization(secret: string, terms: PayoutTerms): string {
  return mac(secret, payoutAuthorizationText(terms)).toString('hex');
}

/**
 * Whether `authorization` is the authorization of exactly `terms` under `secret`, compared in
 * constant time. False for anything but 64 lower-case hex characters, and for terms that are not
 * well formed. Throws PayoutAuthorizationError only on a secret shorter than 32 characters (a
 * misconfiguration, not a bad request).
 */
export function verifyPayoutAuthorization(secret: string, terms: PayoutTerms, authorization: string): boolean {
  key(secret);
  if (typeof authorization !== 'string' || !AUTHORIZATION.test(authorization)) return false;
  let text: string;
  try {
    text = payoutAuthorizationText(terms);
  } catch (error) {
    if (error instanceof PayoutAuthorizationError) return false;
    throw error;
  }
  return timingSafeEqual(mac(secret, text), Buffer.from(authorization, 'hex'));
}
