/** A webhook endpoint as the API shows it. */
import type { WebhookEndpoint } from './webhooks.table';
import type { EndpointObject } from './endpoints.schema';

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
    x_webhook_signature_format: endpoint.x_webhook_signature_format,
    created_at: endpoint.created_at.toISOString(),
    updated_at: endpoint.updated_at.toISOString(),
    ...(options.withSecret ? { secret: endpoint.secret } : {}),
  };
}
