/** Webhook endpoints: where a merchant's events go, what the API shows of them, and which URLs are allowed. */
import type { WebhookEndpoint } from '../db/tables/webhooks.table';
import { InvalidRequestError } from '../domain/errors';
import { destinationRule, type WebhookPolicy } from './deliveries';
import { resolvePublicAddress, UnsafeDestinationError } from './ssrf';

export const MAX_URL_LENGTH = 2048;
/** A rotated secret keeps signing deliveries beside the new one for this long. */
export const PREVIOUS_SECRET_TTL_MS = 24 * 60 * 60 * 1000;

export interface EndpointObject {
  id: string;
  object: 'webhook_endpoint';
  livemode: boolean;
  url: string;
  events: string[];
  description: string | null;
  disabled: boolean;
  disabled_reason: string | null;
  created_at: string;
  updated_at: string;
  secret?: string;
}

/** The endpoint as the API shows it; the secret only when it was just made or rotated. */
export function endpointObject(endpoint: WebhookEndpoint, options: { withSecret?: boolean } = {}): EndpointObject {
  return {
    id: endpoint.id,
    object: 'webhook_endpoint',
    livemode: endpoint.livemode,
    url: endpoint.url,
    events: endpoint.events,
    description: endpoint.description,
    disabled: endpoint.disabled,
    disabled_reason: endpoint.disabled_reason,
    created_at: endpoint.created_at.toISOString(),
    updated_at: endpoint.updated_at.toISOString(),
    ...(options.withSecret ? { secret: endpoint.secret } : {}),
  };
}

/**
 * Checks a URL an endpoint may use: absolute http(s), at most 2048 characters, no credentials in
 * it; in live mode https only, on public addresses; in test mode public or loopback addresses, so
 * developers can receive webhooks on http://localhost. Checked again, and pinned, at every delivery.
 */
export async function checkEndpointUrl(raw: string, livemode: boolean, policy: WebhookPolicy): Promise<string> {
  const invalid = (message: string) => new InvalidRequestError(message, 'url', 'url_invalid');
  if (raw.length > MAX_URL_LENGTH) throw invalid(`url may be at most ${MAX_URL_LENGTH} characters.`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid('url must be an absolute http:// or https:// URL.');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid('url must be an absolute http:// or https:// URL.');
  if (url.username || url.password) throw invalid('url must not contain credentials.');
  const rule = destinationRule(policy, livemode);
  if (livemode && rule.vet && url.protocol !== 'https:') throw invalid('Live endpoints must use https://.');
  if (rule.vet) {
    try {
      await resolvePublicAddress(url.hostname, { allowLoopback: rule.allowLoopback });
    } catch (error) {
      if (!(error instanceof UnsafeDestinationError)) throw error;
      throw invalid(`${livemode ? 'Live endpoints must be on the public internet' : 'Test endpoints must be on the public internet or this machine'}: ${error.message}.`);
    }
  }
  return url.toString();
}
