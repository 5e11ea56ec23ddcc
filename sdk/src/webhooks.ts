/**
 * Verifying what inflow sends you, on the raw body exactly as received (parse it only after):
 *  - webhook events, signed by Standard Webhooks: `webhook-id`, `webhook-timestamp` and
 *    `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">` keyed with the base64
 *    part of the endpoint's `whsec_…` secret; while a rotated secret is honoured the header holds
 *    one signature per secret, space-separated, and either may match;
 *  - order callbacks, signed as CryptoPayments signs them: `api-notification-sign` is the hex
 *    HMAC-SHA256 of the body keyed with your API key of that mode (`sk_test_…` or `sk_live_…`).
 * Signatures are compared in constant time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { components } from './openapi';

/** A webhook event: what `GET /events/:id` shows, without its deliveries. */
export type WebhookEvent = components['schemas']['Event'];

/** An amount in an order callback: a decimal string and its currency. */
export interface CallbackAmount {
  amount: string;
  currency: string;
}

/** A CryptoPayments-style order callback (docs/orders.md); timestamps look like `2026-11-22T09:16:23+00:00`. */
export interface OrderCallback {
  id: string;
  status: string;
  createdAt: string;
  updatedAt: string;
  transactions: Array<{
    id: string;
    status: string;
    createdAt: string;
    updatedAt: string;
    receiverAddress: string;
    hash: string;
    primaryAmount: CallbackAmount;
    secondaryAmount: CallbackAmount;
    serviceFeeAmount: CallbackAmount;
    totalAmount: CallbackAmount;
  }>;
  primaryAmount: CallbackAmount;
  secondaryAmount: CallbackAmount;
  serviceFeeAmount: CallbackAmount;
  totalAmount: CallbackAmount;
  externalId: string;
}

/** Node's `req.headers`, a framework's plain object in any letter case, or a fetch `Headers`. */
export type HeadersLike = Headers | Record<string, string | string[] | undefined>;

export interface VerifyOptions {
  /** How far `webhook-timestamp` may be from now, either way, in seconds (default 300): older deliveries are refused as replays. */
  toleranceSeconds?: number;
  /** Now, in Unix seconds; for tests. */
  nowSeconds?: number;
}

export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
}

const STANDARD_SECRET_PREFIX = 'whsec_';
const API_KEY_PREFIX = /^sk_(test|live)_/;

/**
 * Verifies a delivery and returns its parsed body, or throws WebhookVerificationError saying what
 * failed. The scheme follows the headers (`webhook-signature` for events, `api-notification-sign`
 * for order callbacks); a `whsec_` secret accepts only the first and an API key only the second,
 * so the return type can follow the secret.
 */
export function verify(rawBody: string | Uint8Array, headers: HeadersLike, secret: `whsec_${string}`, options?: VerifyOptions): WebhookEvent;
export function verify(rawBody: string | Uint8Array, headers: HeadersLike, secret: `sk_${string}`, options?: VerifyOptions): OrderCallback;
export function verify(rawBody: string | Uint8Array, headers: HeadersLike, secret: string, options?: VerifyOptions): WebhookEvent | OrderCallback;
export function verify(rawBody: string | Uint8Array, headers: HeadersLike, secret: string, options: VerifyOptions = {}): WebhookEvent | OrderCallback {
  // The commonest mistake: a body a framework parsed already cannot be re-serialised byte for byte.
  // (isView, not instanceof: bytes made in another realm, a vm context or a test runner, are bytes too.)
  if (typeof rawBody !== 'string' && !ArrayBuffer.isView(rawBody)) {
    throw new WebhookVerificationError('rawBody must be the raw request body (a string or bytes), not a parsed object');
  }
  if (typeof secret !== 'string' || secret === '') throw new WebhookVerificationError('a secret is required: the endpoint secret (whsec_…) or the API key');
  const header = headerReader(headers);
  const body = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : Buffer.from(rawBody.buffer, rawBody.byteOffset, rawBody.byteLength);
  const isApiKey = API_KEY_PREFIX.test(secret);

  const standardSignatures = header('webhook-signature');
  const callbackSignature = header('api-notification-sign');
  if (standardSignatures !== undefined && !isApiKey) {
    verifyStandard(body, header('webhook-id'), header('webhook-timestamp'), standardSignatures, secret, options);
  } else if (callbackSignature !== undefined && !secret.startsWith(STANDARD_SECRET_PREFIX)) {
    verifyCallback(body, callbackSignature, secret);
  } else if (secret.startsWith(STANDARD_SECRET_PREFIX)) {
    throw new WebhookVerificationError('webhook-id, webhook-timestamp and webhook-signature are required with a whsec_ secret');
  } else if (isApiKey) {
    throw new WebhookVerificationError('api-notification-sign is required to verify an order callback with an API key');
  } else {
    throw new WebhookVerificationError('no signature header: expected webhook-signature (events) or api-notification-sign (order callbacks)');
  }
  try {
    return JSON.parse(body.toString('utf8')) as WebhookEvent | OrderCallback;
  } catch {
    throw new WebhookVerificationError('the signed body is not JSON');
  }
}

/** `verify` as an object, for `Inflow.webhooks.verify(…)` and `inflow.webhooks.verify(…)`. */
export const webhooks = { verify };

function verifyStandard(body: Buffer, id: string | undefined, timestamp: string | undefined, signatures: string, secret: string, options: VerifyOptions): void {
  if (!id || !timestamp) throw new WebhookVerificationError('webhook-id and webhook-timestamp are required with webhook-signature');
  if (!/^\d+$/.test(timestamp)) throw new WebhookVerificationError('webhook-timestamp is not a Unix time in seconds');
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  const tolerance = options.toleranceSeconds ?? 300;
  const seconds = Number(timestamp);
  if (now - seconds > tolerance) throw new WebhookVerificationError(`webhook-timestamp is more than ${tolerance} s old`);
  if (seconds - now > tolerance) throw new WebhookVerificationError(`webhook-timestamp is more than ${tolerance} s in the future`);

  const key = Buffer.from(secret.startsWith(STANDARD_SECRET_PREFIX) ? secret.slice(STANDARD_SECRET_PREFIX.length) : secret, 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
  // Each entry is `<version>,<signature>`; only v1 (HMAC-SHA256) is inflow's. Compare every one, so timing says nothing about which matched.
  let matched = false;
  for (const entry of signatures.split(' ')) {
    const [version, signature] = entry.split(',', 2);
    if (version === 'v1' && signature !== undefined && constantTimeEqual(Buffer.from(signature, 'base64'), expected)) matched = true;
  }
  if (!matched) throw new WebhookVerificationError('no webhook-signature matches');
}

function verifyCallback(body: Buffer, signature: string, apiKey: string): void {
  const expected = createHmac('sha256', apiKey).update(body).digest();
  if (!/^[0-9a-fA-F]{64}$/.test(signature.trim()) || !constantTimeEqual(Buffer.from(signature.trim(), 'hex'), expected)) {
    throw new WebhookVerificationError('api-notification-sign does not match');
  }
}

function constantTimeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function headerReader(headers: HeadersLike): (name: string) => string | undefined {
  if (typeof (headers as Headers).get === 'function') {
    return (name) => (headers as Headers).get(name) ?? undefined;
  }
  const byLowerName = new Map(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), Array.isArray(value) ? value[0] : value]));
  return (name) => byLowerName.get(name);
}
