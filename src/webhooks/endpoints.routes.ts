import Router from '@koa/router';
import { callerOf, transactionOf, type AppContext, type AppState } from '../api/context';
import { idempotency } from '../api/middleware/idempotency';
import { prepare, transaction } from '../api/middleware/transaction';
import { inputOf } from '../api/middleware/validate';
import { route } from '../api/operation';
import { paginate } from '../api/pagination';
import type { Db } from '../db/database';
import { findWebhookEndpoint, listWebhookEndpoints } from './webhooks.repository';
import { ResourceMissingError } from '../domain/errors';
import { DEFAULT_WEBHOOK_ENDPOINTS_PER_MODE } from '../domain/rate-limits';
import { presentEvents } from '../events/event.presenter';
import type { Logger } from '../logger';
import type { WebhookPolicy } from './deliveries';
import { endpointObject } from './endpoint.presenter';
import { endpointOperations as operations } from './endpoints.schema';
import { checkDestinationUrl, createEndpoint, deleteEndpoint, rotateEndpointSecret, sendPing, updateEndpoint } from './endpoints.service';

export function webhookEndpointRoutes(deps: {
  db: Db;
  logger: Logger;
  webhookPolicy: WebhookPolicy;
  /** INFLOW_WEBHOOK_ENDPOINTS_PER_MODE; DEFAULT_WEBHOOK_ENDPOINTS_PER_MODE when unset. */
  webhookEndpointsPerMode?: number | undefined;
  secretKey: Buffer;
}): Router<AppState> {
  const router = new Router<AppState>();

  const endpointOf = async (ctx: AppContext) => {
    const id = ctx.params.id ?? '';
    const endpoint = await findWebhookEndpoint(deps.db, callerOf(ctx), id);
    if (!endpoint) throw new ResourceMissingError(`No such webhook endpoint: '${id}'`, 'id');
    return endpoint;
  };

  // The URL's DNS lookup (up to the resolver's timeout) runs before the transaction opens.
  const vettedUrl = prepare(async (ctx) => {
    const { url } = inputOf(ctx, operations.create.body);
    return checkDestinationUrl(url, callerOf(ctx).livemode, deps.webhookPolicy);
  });
  // Both answers carry the endpoint's secret in plaintext: their stored copies (for retries) are sealed.
  const idempotentWithSecret = idempotency({ sealWith: deps.secretKey });
  route(router, operations.create, vettedUrl, transaction(deps.db), idempotentWithSecret, async (ctx) => {
    const input = { ...inputOf(ctx, operations.create.body), url: vettedUrl.of(ctx) };
    const endpoint = await createEndpoint(
      transactionOf(ctx),
      callerOf(ctx),
      input,
      deps.webhookEndpointsPerMode ?? DEFAULT_WEBHOOK_ENDPOINTS_PER_MODE,
      deps.secretKey,
    );
    return endpointObject(endpoint, { withSecret: true });
  });

  route(router, operations.list, async (ctx) => {
    const caller = callerOf(ctx);
    return paginate(inputOf(ctx, operations.list.query), {
      fetch: (window) => listWebhookEndpoints(deps.db, caller, window),
      exists: async (id) => (await findWebhookEndpoint(deps.db, caller, id)) !== undefined,
      present: (rows) => rows.map((row) => endpointObject(row)),
    });
  });

  route(router, operations.retrieve, async (ctx) => endpointObject(await endpointOf(ctx)));

  const vettedUpdate = prepare(async (ctx) => {
    const endpoint = await endpointOf(ctx);
    const { url } = inputOf(ctx, operations.update.body);
    return { endpoint, url: url === undefined ? undefined : await checkDestinationUrl(url, endpoint.livemode, deps.webhookPolicy) };
  });
  route(router, operations.update, vettedUpdate, transaction(deps.db), async (ctx) => {
    const { endpoint, url } = vettedUpdate.of(ctx);
    return endpointObject(await updateEndpoint(transactionOf(ctx), endpoint, { ...inputOf(ctx, operations.update.body), url }));
  });

  route(router, operations.delete, transaction(deps.db), async (ctx) => {
    const endpoint = await endpointOf(ctx);
    await deleteEndpoint(transactionOf(ctx), endpoint);
    return { id: endpoint.id, object: 'webhook_endpoint' as const, deleted: true as const };
  });

  route(router, operations.rotateSecret, transaction(deps.db), idempotentWithSecret, async (ctx) => {
    return endpointObject(await rotateEndpointSecret(transactionOf(ctx), await endpointOf(ctx), deps.secretKey), { withSecret: true });
  });

  route(router, operations.sendTest, transaction(deps.db), idempotency(), async (ctx) => {
    const event = await sendPing(transactionOf(ctx), await endpointOf(ctx));
    const [sent] = await presentEvents(transactionOf(ctx), [event]);
    return sent!;
  });

  return router;
}
