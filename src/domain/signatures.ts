/**
 * Webhook signatures, two ways on every delivery:
 *  - `X-Webhook-Signature`: hex HMAC-SHA256 of the raw body, keyed with the endpoint secret string
 *    (the TotoPay-style scheme; its Node verifier works unchanged because the body is compact JSON),
 *    or of the payload as Python's json.dumps writes it, for endpoints set to `python_json_dumps`;
 *  - Standard Webhooks: `webhook-signature: v1,<base64>` of HMAC-SHA256 over `{id}.{timestamp}.{body}`,
 *    keyed with the base64-decoded part of the secret after `whsec_`, which receivers can check
 *    against replays through `webhook-timestamp`.
 * `verifyWebhook` is the receiving side, for merchants to copy.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { pythonJsonDumps } from './python-json';

export const SECRET_PREFIX = 'whsec_';

/** `whsec_` + 32 random bytes in base64, as Standard Webhooks expects. */
export function generateWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString('base64')}`;
}

/**
 * What `X-Webhook-Signature` is the HMAC of, per endpoint. `compact`: the raw body, which
 * TotoPay's Node sample (`JSON.stringify(req.body)`) and any raw-body check verify.
 * `python_json_dumps`: the payload as Python's `json.dumps(payload)` writes it, which TotoPay's
 * Python sample (`json.dumps(request.json)`) verifies. The body and the Standard Webhooks headers
 * are the same either way.
 */
export const webhookSignatureFormats = ['compact', 'python_json_dumps'] as const;
export type WebhookSignatureFormat = (typeof webhookSignatureFormats)[number];

/** The text `X-Webhook-Signature` signs for a body in a format. */
export function legacySignedText(rawBody: string, format: WebhookSignatureFormat): string {
  return format === 'python_json_dumps' ? pythonJsonDumps(JSON.parse(rawBody)) : rawBody;
}

export function hexSignature(rawBody: string, secret: string): string {
  return createHmac('sha256', secret).update(rawBody, 'utf8').digest('hex');
}

export function standardSignature(messageId: string, timestampSeconds: number, rawBody: string, secret: string): string {
  const key = Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64');
  return `v1,${createHmac('sha256', key).update(`${messageId}.${timestampSeconds}.${rawBody}`, 'utf8').digest('base64')}`;
}

/**
 * The signature headers of one delivery. While a rotated secret is still honoured, both secrets
 * sign: `webhook-signature` lists both (space-separated). `X-Webhook-Signature` holds one value,
 * so it uses the newest: receivers on that scheme switch secrets when they rotate.
 */
export function signatureHeaders(input: {
  messageId: string;
  timestampSeconds: number;
  rawBody: string;
  secrets: string[];
  format?: WebhookSignatureFormat | undefined;
}): Record<string, string> {
  const [newest] = input.secrets;
  if (!newest) throw new Error('a delivery needs at least one secret');
  return {
    'X-Webhook-Signature': hexSignature(legacySignedText(input.rawBody, input.format ?? 'compact'), newest),
    'webhook-id': input.messageId,
    'webhook-timestamp': String(input.timestampSeconds),
    'webhook-signature': input.secrets.map((secret) => standardSignature(input.messageId, input.timestampSeconds, input.rawBody, secret)).join(' '),
  };
}

export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
}

/**
 * Verifies a delivery as a receiver should: on the raw body bytes, in constant time, by the
 * Standard Webhooks headers, refusing timestamps more than `toleranceSeconds` (default 5 minutes)
 * from now, which stops replays. `allowLegacySignature` also accepts a delivery that carries only
 * `X-Webhook-Signature`; that scheme has no timestamp, so a captured delivery could be replayed.
 * Throws WebhookVerificationError saying what failed; returns the parsed event otherwise.
 */
export function verifyWebhook(
  rawBody: string,
  headers: Record<string, string | string[] | undefined>,
  secret: string,
  options: { toleranceSeconds?: number; nowSeconds?: number; allowLegacySignature?: boolean; legacyFormat?: WebhookSignatureFormat } = {},
): unknown {
  const header = (name: string) => {
    const value = headers[name] ?? headers[name.toLowerCase()];
    return Array.isArray(value) ? value[0] : value;
  };
  const id = header('webhook-id');
  const timestamp = header('webhook-timestamp');
  const signatures = header('webhook-signature');
  if (id && timestamp && signatures) {
    const seconds = Number(timestamp);
    const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
    if (!Number.isInteger(seconds) || Math.abs(now - seconds) > (options.toleranceSeconds ?? 300)) {
      throw new WebhookVerificationError('webhook-timestamp is missing, malformed or too far from now');
    }
    const expected = standardSignature(id, seconds, rawBody, secret);
    if (!signatures.split(' ').some((candidate) => safeEqual(candidate, expected))) {
      throw new WebhookVerificationError('no webhook-signature matches');
    }
  } else {
    if (!options.allowLegacySignature) throw new WebhookVerificationError('webhook-id, webhook-timestamp and webhook-signature are required');
    const hex = header('x-webhook-signature');
    if (!hex || !safeEqual(hex, hexSignature(legacySignedText(rawBody, options.legacyFormat ?? 'compact'), secret)))
      throw new WebhookVerificationError('X-Webhook-Signature does not match');
  }
  return JSON.parse(rawBody);
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
