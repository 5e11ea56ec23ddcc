import Router from '@koa/router';
import type { Db } from '../../../db/database';
import { findWebhookEndpoint, insertWebhookEndpoint, listWebhookEndpoints, updateWebhookEndpoint } from '../../../db/repositories/webhooks.repository';
import { ResourceMissingError } from '../../../domain/errors';
import { newId } from '../../../domain/ids';
import { generateWebhookSecret } from '../../../domain/signatures';
import type { Logger } from '../../../logger';
import type { WebhookPolicy } from '../../../webhooks/deliveries';
import { checkEndpointUrl, endpointObject, PREVIOUS_SECRET_TTL_MS } from '../../../webhooks/endpoints';
import { callerOf, transactionOf, type AppContext, type AppState } from '../../context';
import { idempotency } from '../../middleware/idempotency';
import { inputOf, validate } from '../../middleware/validate';
import { paginate } from '../../pagination';
import { CreateEndpointBody, ListEndpointsQuery, UpdateEndpointBody } from './webhook-endpoints.schema';

export function webhookEndpointRoutes(deps: { db: Db; logger: Logger; webhookPolicy: WebhookPolicy }): Router<AppState> {
  const router = new Router<AppState>();

  const endpointOf = async (ctx: AppContext) => {
    const id = ctx.params.id ?? '';
    const endpoint = await findWebhookEndpoint(deps.db, callerOf(ctx), id);
    if (!endpoint) throw new ResourceMissingError(`No such webhook endpoint: '${id}'`, 'id');
    return endpoint;
  };

  router.post('/webhook-endpoints', validate(CreateEndpointBody), idempotency(deps.db, deps.logger), async (ctx) => {
    const caller = callerOf(ctx);
    const input = inputOf(ctx, CreateEndpointBody);
    const endpoint = await insertWebhookEndpoint(transactionOf(ctx), {
      id: newId('webhookEndpoint'),
      merchant_id: caller.merchantId,
      livemode: caller.livemode,
      url: await checkEndpointUrl(input.url, caller.livemode, deps.webhookPolicy),
      description: input.description ?? null,
      events: input.events,
      secret: generateWebhookSecret(),
      previous_secret: null,
      previous_secret_expires_at: null,
      disabled_reason: null,
      deleted_at: null,
    });
    ctx.body = endpointObject(endpoint, { withSecret: true });
  });

  router.get('/webhook-endpoints', validate(ListEndpointsQuery), async (ctx) => {
    const caller = callerOf(ctx);
    ctx.body = await paginate(inputOf(ctx, ListEndpointsQuery), {
      fetch: (limit, startingAfter) => listWebhookEndpoints(deps.db, caller, { limit, startingAfter }),
      exists: async (id) => (await findWebhookEndpoint(deps.db, caller, id)) !== undefined,
      present: (rows) => rows.map((row) => endpointObject(row)),
    });
  });

  router.get('/webhook-endpoints/:id', async (ctx) => {
    ctx.body = endpointObject(await endpointOf(ctx));
  });

  router.patch('/webhook-endpoints/:id', validate(UpdateEndpointBody), async (ctx) => {
    const endpoint = await endpointOf(ctx);
    const input = inputOf(ctx, UpdateEndpointBody);
    const updated = await updateWebhookEndpoint(deps.db, endpoint.id, {
      ...(input.url !== undefined ? { url: await checkEndpointUrl(input.url, endpoint.livemode, deps.webhookPolicy) } : {}),
      ...(input.events !== undefined ? { events: input.events } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.disabled !== undefined ? { disabled: input.disabled, disabled_reason: input.disabled ? 'Disabled through the API.' : null } : {}),
    });
    ctx.body = endpointObject(updated);
  });

  router.delete('/webhook-endpoints/:id', async (ctx) => {
    const endpoint = await endpointOf(ctx);
    await updateWebhookEndpoint(deps.db, endpoint.id, { deleted_at: new Date(), disabled: true, disabled_reason: 'Deleted.' });
    ctx.body = { id: endpoint.id, object: 'webhook_endpoint', deleted: true };
  });

  router.post('/webhook-endpoints/:id/rotate-secret', idempotency(deps.db, deps.logger), async (ctx) => {
    const endpoint = await endpointOf(ctx);
    const rotated = await updateWebhookEndpoint(transactionOf(ctx), endpoint.id, {
      secret: generateWebhookSecret(),
      previous_secret: endpoint.secret,
      previous_secret_expires_at: new Date(Date.now() + PREVIOUS_SECRET_TTL_MS),
    });
    ctx.body = endpointObject(rotated, { withSecret: true });
  });

  return router;
}
