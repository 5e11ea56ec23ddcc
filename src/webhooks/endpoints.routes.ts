import Router from '@koa/router';
import { callerOf, transactionOf, type AppContext, type AppState } from '../api/context';
import { idempotency } from '../api/middleware/idempotency';
import { transaction } from '../api/middleware/transaction';
import { inputOf, validate } from '../api/middleware/validate';
import { paginate } from '../api/pagination';
import { NoParameters } from '../api/schema';
import type { Db } from '../db/database';
import { findWebhookEndpoint, listWebhookEndpoints } from '../db/repositories/webhooks.repository';
import { ResourceMissingError } from '../domain/errors';
import type { Logger } from '../logger';
import type { WebhookPolicy } from './deliveries';
import { endpointObject } from './endpoint.presenter';
import { CreateEndpointBody, ListEndpointsQuery, UpdateEndpointBody } from './endpoints.schema';
import { createEndpoint, deleteEndpoint, rotateEndpointSecret, updateEndpoint } from './endpoints.service';

export function webhookEndpointRoutes(deps: { db: Db; logger: Logger; webhookPolicy: WebhookPolicy }): Router<AppState> {
  const router = new Router<AppState>();

  const endpointOf = async (ctx: AppContext) => {
    const id = ctx.params.id ?? '';
    const endpoint = await findWebhookEndpoint(deps.db, callerOf(ctx), id);
    if (!endpoint) throw new ResourceMissingError(`No such webhook endpoint: '${id}'`, 'id');
    return endpoint;
  };

  router.post('/webhook-endpoints', validate(CreateEndpointBody), transaction(deps.db), idempotency(), async (ctx) => {
    const endpoint = await createEndpoint(transactionOf(ctx), callerOf(ctx), inputOf(ctx, CreateEndpointBody), deps.webhookPolicy);
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

  router.patch('/webhook-endpoints/:id', validate(UpdateEndpointBody), transaction(deps.db), async (ctx) => {
    ctx.body = endpointObject(await updateEndpoint(transactionOf(ctx), await endpointOf(ctx), inputOf(ctx, UpdateEndpointBody), deps.webhookPolicy));
  });

  router.delete('/webhook-endpoints/:id', transaction(deps.db), async (ctx) => {
    const endpoint = await endpointOf(ctx);
    await deleteEndpoint(transactionOf(ctx), endpoint);
    ctx.body = { id: endpoint.id, object: 'webhook_endpoint', deleted: true };
  });

  router.post('/webhook-endpoints/:id/rotate-secret', validate(NoParameters), transaction(deps.db), idempotency(), async (ctx) => {
    ctx.body = endpointObject(await rotateEndpointSecret(transactionOf(ctx), await endpointOf(ctx)), { withSecret: true });
  });

  return router;
}
