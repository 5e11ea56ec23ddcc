/** A webhook endpoint as the API shows it. */
import type { WebhookEndpoint } from '../db/tables/webhooks.table';

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
