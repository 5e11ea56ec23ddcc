/** Webhook endpoints: where a merchant's events go, and which URLs they may use. */
import { inTransaction, type Executor, type Tenant } from '../db/database';
import { insertWebhookEndpoint, updateWebhookEndpoint } from './webhooks.repository';
import type { Event } from '../events/events.table';
import type { WebhookEndpoint } from './webhooks.table';
import { InvalidRequestError } from '../domain/errors';
import type { EventFamily, SubscribableEventType } from '../domain/events';
import { newId } from '../domain/ids';
import { generateWebhookSecret, type WebhookSignatureFormat } from '../domain/signatures';
import { emitPing } from '../events/emitter';
import { sealedWebhookSecret, sealWebhookSecret } from './sealed-secrets';
import { destinationRule, type WebhookPolicy } from './deliveries';
import { endpointObject } from './endpoint.presenter';
import { resolvePublicAddress, UnsafeDestinationError } from './ssrf';

const MAX_URL_LENGTH = 2048;
/** A rotated secret keeps signing deliveries beside the new one for this long. */
export const PREVIOUS_SECRET_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * Checks a URL an endpoint may use: absolute http(s), at most 2048 characters, no credentials in
 * it; in live mode https only, on public addresses; in test mode public addresses, and loopback
 * (http://localhost) only where the operator allows it (INFLOW_WEBHOOKS_TEST_ALLOW_LOOPBACK, a
 * development stack): elsewhere any merchant's test key could reach the host's own services.
 * Checked again, and pinned, at every delivery.
 */
export async function checkDestinationUrl(raw: string, livemode: boolean, policy: WebhookPolicy, param = 'url'): Promise<string> {
  const invalid = (message: string) => new InvalidRequestError(message, param, 'url_invalid');
  if (raw.length > MAX_URL_LENGTH) throw invalid(`${param} may be at most ${MAX_URL_LENGTH} characters.`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid(`${param} must be an absolute http:// or https:// URL.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid(`${param} must be an absolute http:// or https:// URL.`);
  if (url.username || url.password) throw invalid(`${param} must not contain credentials.`);
  const rule = destinationRule(policy, livemode);
  if (livemode && rule.vet && url.protocol !== 'https:') throw invalid(`Live ${param === 'url' ? 'endpoints' : param} must use https://.`);
  if (rule.vet) {
    try {
      await resolvePublicAddress(url.hostname, { allowLoopback: rule.allowLoopback });
    } catch (error) {
      if (!(error instanceof UnsafeDestinationError)) throw error;
      // Which setting of the server opens this up: operators of a development stack read this.
      const setting = livemode
        ? 'INFLOW_WEBHOOKS_LIVE_ALLOW_PRIVATE=true'
        : `${rule.allowLoopback ? '' : 'INFLOW_WEBHOOKS_TEST_ALLOW_LOOPBACK=true (this machine) or '}INFLOW_WEBHOOKS_TEST_ALLOW_PRIVATE=true (a private network)`;
      throw invalid(
        `${livemode ? 'Live' : 'Test'} ${param === 'url' ? 'endpoints' : param} must be on the public internet${rule.allowLoopback ? ' or this machine' : ''}: ${error.message}. A server for development may allow it with ${setting}.`,
      );
    }
  }
  return url.toString();
}

/**
 * Creates an endpoint with a URL vetted by checkDestinationUrl (before the transaction opened: its
 * DNS lookup must not hold a connection), refused with a 400 `webhook_endpoint_limit_reached` when
 * the merchant has `limit` endpoints in this mode already. Every event is delivered once per
 * endpoint, so endpoints are what one event costs the worker that every tenant shares.
 */
export async function createEndpoint(
  transaction: Executor,
  tenant: Tenant,
  input: {
    url: string;
    events: Array<SubscribableEventType | EventFamily | '*'>;
    description?: string | undefined;
    x_webhook_signature_format?: WebhookSignatureFormat | undefined;
  },
  limit: number,
  secretKey: Buffer,
): Promise<WebhookEndpoint> {
  return inTransaction(transaction, async (transaction) => {
    // The merchant's row is the lock: two creates at the limit cannot both count one below it. FOR
    // NO KEY UPDATE, not FOR UPDATE: the request's Idempotency-Key claim (and this insert) already
    // hold FOR KEY SHARE on the row through their merchant_id, which FOR UPDATE conflicts with, so
    // two concurrent creates would each wait for the other's share lock: a deadlock (40P01).
    await transaction.selectFrom('merchants').select('id').where('id', '=', tenant.merchantId).forNoKeyUpdate().executeTakeFirst();
    const { count } = await transaction
      .selectFrom('webhook_endpoints')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('merchant_id', '=', tenant.merchantId)
      .where('livemode', '=', tenant.livemode)
      .where('deleted_at', 'is', null)
      .executeTakeFirstOrThrow();
    if (Number(count) >= limit) {
      throw new InvalidRequestError(
        `This account has ${count} ${tenant.livemode ? 'live' : 'test'} webhook endpoints, the most allowed: delete one it no longer needs (an endpoint may subscribe to several events, or to '*').`,
        undefined,
        'webhook_endpoint_limit_reached',
      );
    }
    const id = newId('webhookEndpoint');
    const secret = generateWebhookSecret();
    const endpoint = await insertWebhookEndpoint(transaction, {
      id,
      merchant_id: tenant.merchantId,
      livemode: tenant.livemode,
      url: input.url,
      description: input.description ?? null,
      events: input.events,
      // Sealed at rest (sealed-secrets.ts); the plaintext is in this answer only.
      secret: sealWebhookSecret(secret, secretKey, id),
      previous_secret: null,
      previous_secret_expires_at: null,
      disabled_reason: null,
      x_webhook_signature_format: input.x_webhook_signature_format ?? 'compact',
      deleted_at: null,
    });
    return { ...endpoint, secret };
  });
}

/** Changes an endpoint; a new `url` must come vetted by checkDestinationUrl (before the transaction). */
export async function updateEndpoint(
  db: Executor,
  endpoint: WebhookEndpoint,
  input: {
    url?: string | undefined;
    events?: Array<SubscribableEventType | EventFamily | '*'> | undefined;
    description?: string | null | undefined;
    disabled?: boolean | undefined;
    x_webhook_signature_format?: WebhookSignatureFormat | undefined;
  },
): Promise<WebhookEndpoint> {
  return updateWebhookEndpoint(db, endpoint.id, {
    ...(input.url !== undefined ? { url: input.url } : {}),
    ...(input.events !== undefined ? { events: input.events } : {}),
    ...(input.description !== undefined ? { description: input.description } : {}),
    ...(input.disabled !== undefined ? { disabled: input.disabled, disabled_reason: input.disabled ? 'Disabled through the API.' : null } : {}),
    ...(input.x_webhook_signature_format !== undefined ? { x_webhook_signature_format: input.x_webhook_signature_format } : {}),
  });
}

/** Deleted endpoints stay as rows (their deliveries refer to them) but receive nothing more. */
export async function deleteEndpoint(db: Executor, endpoint: WebhookEndpoint): Promise<void> {
  await updateWebhookEndpoint(db, endpoint.id, { deleted_at: new Date(), disabled: true, disabled_reason: 'Deleted.' });
}

/**
 * A new signing secret; the previous one keeps signing beside it for PREVIOUS_SECRET_TTL_MS. Both
 * are stored sealed; the answer carries the new one in plaintext, the only time it is shown.
 */
export async function rotateEndpointSecret(db: Executor, endpoint: WebhookEndpoint, secretKey: Buffer): Promise<WebhookEndpoint> {
  const secret = generateWebhookSecret();
  const rotated = await updateWebhookEndpoint(db, endpoint.id, {
    secret: sealWebhookSecret(secret, secretKey, endpoint.id),
    previous_secret: sealedWebhookSecret(endpoint.secret, secretKey, endpoint.id),
    previous_secret_expires_at: new Date(Date.now() + PREVIOUS_SECRET_TTL_MS),
  });
  return { ...rotated, secret };
}

/**
 * A `ping` event for this endpoint, and its one delivery queued to start at commit: the same
 * delivery workflow, signing and attempt log as every event, but to this endpoint only, whatever
 * it subscribes to. A disabled endpoint is refused, as its delivery would stop before sending.
 */
export async function sendPing(transaction: Executor, endpoint: WebhookEndpoint): Promise<Event> {
  if (endpoint.disabled) {
    throw new InvalidRequestError(
      `Webhook endpoint '${endpoint.id}' is disabled${endpoint.disabled_reason ? ` (${endpoint.disabled_reason})` : ''}: enable it (PATCH with disabled: false) to send it a test event.`,
      undefined,
      'webhook_endpoint_disabled',
    );
  }
  return (await emitPing(transaction, endpoint, endpointObject(endpoint))).event;
}
