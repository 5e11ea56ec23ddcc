import { z } from 'zod';
import { eventFamilies, subscribableEventTypes } from '../domain/events';
import { webhookSignatureFormats } from '../domain/signatures';
import { defineOperation } from '../api/operation';
import { paginationParams } from '../api/pagination';
import { deletedObject, idOf, listOf, NoParameters, text, Timestamp } from '../api/schema';
import { EventWithDeliveries } from '../events/events.schema';

/**
 * A list of event types and families (`deposit.*`), or ["*"] for every type (`ping` is no
 * subscription: it comes only from POST /webhook-endpoints/:id/test).
 */
const EventTypes = z
  .array(z.enum([...subscribableEventTypes, ...eventFamilies, '*']))
  .min(1)
  .max(subscribableEventTypes.length + eventFamilies.length + 1)
  .refine((events) => !events.includes('*') || events.length === 1, 'use ["*"] alone, or list event types')
  // The refinement, as the document says it.
  .meta({ anyOf: [{ not: { contains: { const: '*' } } }, { maxItems: 1 }] })
  .transform((events) => [...new Set(events)]);

const SignatureFormat = z.enum(webhookSignatureFormats).meta({
  description:
    "What `X-Webhook-Signature` is the HMAC of. `compact` (the default): the raw body, which TotoPay's Node sample (`JSON.stringify(req.body)`) verifies. `python_json_dumps`: the payload as Python's `json.dumps(payload)` writes it with default arguments, which TotoPay's Python sample (`json.dumps(request.json)`) verifies. The body and the Standard Webhooks headers are the same either way.",
});

export const CreateEndpointBody = z.strictObject({
  url: text().min(1).max(4096),
  events: EventTypes,
  description: text().max(512).optional(),
  x_webhook_signature_format: SignatureFormat.optional(),
});

export const UpdateEndpointBody = z.strictObject({
  url: text().min(1).max(4096).optional(),
  events: EventTypes.optional(),
  description: text().max(512).nullable().optional(),
  disabled: z.boolean().optional(),
  x_webhook_signature_format: SignatureFormat.optional(),
});

export const ListEndpointsQuery = z.strictObject({ ...paginationParams('webhookEndpoint') });

export const EndpointObject = z
  .object({
    id: idOf('webhookEndpoint'),
    object: z.literal('webhook_endpoint'),
    livemode: z.boolean(),
    url: z.string(),
    events: z.array(z.string()),
    description: z.string().nullable(),
    disabled: z.boolean(),
    disabled_reason: z.string().nullable().meta({ description: 'Why inflow disabled it (e.g. the receiver answered 410 Gone), if it did.' }),
    x_webhook_signature_format: SignatureFormat,
    created_at: Timestamp,
    updated_at: Timestamp,
    secret: z.string().optional().meta({ description: 'The `whsec_` signing secret: only in the answers to create and rotate-secret.' }),
  })
  .meta({ id: 'WebhookEndpoint' });
export type EndpointObject = z.infer<typeof EndpointObject>;

const tag = 'Webhook endpoints';

export const endpointOperations = {
  create: defineOperation({
    operationId: 'createWebhookEndpoint',
    method: 'post',
    path: '/webhook-endpoints',
    tag,
    resource: 'webhook_endpoints',
    summary: 'Create a webhook endpoint',
    description:
      "Subscribes a URL to event types (or `[\"*\"]`). The answer holds its signing `secret`. Private and loopback addresses are a 400 `url_invalid` in both modes unless the operator allows them (live: `INFLOW_WEBHOOKS_LIVE_ALLOW_PRIVATE`; test: `INFLOW_WEBHOOKS_TEST_ALLOW_LOOPBACK` for the server's own machine, `INFLOW_WEBHOOKS_TEST_ALLOW_PRIVATE` for any address, as development stacks do). A hostname that does not resolve within the operator's `INFLOW_DNS_TIMEOUT_MS` (5 s by default) is a 400 `url_invalid`. A merchant may have 16 endpoints per mode (the operator's `INFLOW_WEBHOOK_ENDPOINTS_PER_MODE`): one more is a 400 `webhook_endpoint_limit_reached`; delete one first.",
    body: CreateEndpointBody,
    response: EndpointObject,
    idempotent: true,
  }),
  list: defineOperation({
    operationId: 'listWebhookEndpoints',
    method: 'get',
    path: '/webhook-endpoints',
    tag,
    resource: 'webhook_endpoints',
    summary: 'List webhook endpoints',
    query: ListEndpointsQuery,
    response: listOf(EndpointObject),
  }),
  retrieve: defineOperation({
    operationId: 'retrieveWebhookEndpoint',
    method: 'get',
    path: '/webhook-endpoints/:id',
    pathId: 'webhookEndpoint',
    tag,
    resource: 'webhook_endpoints',
    summary: 'Retrieve a webhook endpoint',
    response: EndpointObject,
  }),
  update: defineOperation({
    operationId: 'updateWebhookEndpoint',
    method: 'patch',
    path: '/webhook-endpoints/:id',
    pathId: 'webhookEndpoint',
    tag,
    resource: 'webhook_endpoints',
    summary: 'Update a webhook endpoint',
    description: 'Changes its URL, events or description, or disables (`disabled: true`) and re-enables it.',
    body: UpdateEndpointBody,
    response: EndpointObject,
  }),
  delete: defineOperation({
    operationId: 'deleteWebhookEndpoint',
    method: 'delete',
    path: '/webhook-endpoints/:id',
    pathId: 'webhookEndpoint',
    tag,
    resource: 'webhook_endpoints',
    summary: 'Delete a webhook endpoint',
    response: deletedObject('webhook_endpoint', 'webhookEndpoint'),
  }),
  rotateSecret: defineOperation({
    operationId: 'rotateWebhookEndpointSecret',
    method: 'post',
    path: '/webhook-endpoints/:id/rotate-secret',
    pathId: 'webhookEndpoint',
    tag,
    resource: 'webhook_endpoints',
    summary: "Rotate a webhook endpoint's secret",
    description: 'Replaces the signing secret; the answer holds the new one. Deliveries from now on are signed with it.',
    body: NoParameters,
    response: EndpointObject,
    idempotent: true,
  }),
  sendTest: defineOperation({
    operationId: 'sendWebhookEndpointTest',
    method: 'post',
    path: '/webhook-endpoints/:id/test',
    pathId: 'webhookEndpoint',
    tag,
    resource: 'webhook_endpoints',
    summary: 'Send a test event to a webhook endpoint',
    description:
      'Sends a `ping` event to this endpoint only, whatever it subscribes to, through the same delivery as every event: signed with its secret, retried on the schedule, each attempt recorded. The answer is the event with its pending delivery; `GET /events/{id}` shows the attempts. A disabled endpoint is refused with a 400 `webhook_endpoint_disabled`.',
    body: NoParameters,
    response: EventWithDeliveries,
    idempotent: true,
  }),
};
