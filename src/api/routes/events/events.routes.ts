import Router from '@koa/router';
import type { Client } from '@temporalio/client';
import type { Db } from '../../../db/database';
import { findEvent, insertRedelivery, listEvents, subscribedEndpoints } from '../../../db/repositories/webhooks.repository';
import { ResourceMissingError } from '../../../domain/errors';
import { newId } from '../../../domain/ids';
import type { Logger } from '../../../logger';
import { presentEvents } from '../../../webhooks/events';
import { webhookDeliveryWorkflowId } from '../../../workflows/definitions';
import type { webhookDeliveryWorkflow } from '../../../workflows/webhook-delivery.workflow';
import { afterCommit, callerOf, transactionOf, type AppContext, type AppState } from '../../context';
import { idempotency } from '../../middleware/idempotency';
import { inputOf, validate } from '../../middleware/validate';
import { paginate } from '../../pagination';
import { ListEventsQuery } from './events.schema';

export function eventRoutes(deps: { db: Db; logger: Logger; temporal: Client; taskQueue: string }): Router<AppState> {
  const router = new Router<AppState>();

  const eventOf = async (ctx: AppContext) => {
    const id = ctx.params.id ?? '';
    const event = await findEvent(deps.db, callerOf(ctx), id);
    if (!event) throw new ResourceMissingError(`No such event: '${id}'`, 'id');
    return event;
  };

  router.get('/events', validate(ListEventsQuery), async (ctx) => {
    const caller = callerOf(ctx);
    const { type, ...page } = inputOf(ctx, ListEventsQuery);
    ctx.body = await paginate(page, {
      fetch: (limit, startingAfter) => listEvents(deps.db, caller, { type }, { limit, startingAfter }),
      exists: async (id) => (await findEvent(deps.db, caller, id)) !== undefined,
      present: (rows) => presentEvents(deps.db, rows),
    });
  });

  router.get('/events/:id', async (ctx) => {
    [ctx.body] = await presentEvents(deps.db, [await eventOf(ctx)]);
  });

  /** Delivers the event again to every endpoint that subscribes to it now, as new, recorded redeliveries. */
  router.post('/events/:id/resend', idempotency(deps.db, deps.logger), async (ctx) => {
    const event = await eventOf(ctx);
    const transaction = transactionOf(ctx);
    for (const endpoint of await subscribedEndpoints(transaction, event)) {
      const delivery = await insertRedelivery(transaction, { id: newId('webhookDelivery'), event_id: event.id, endpoint_id: endpoint.id });
      const prepared = { deliveryId: delivery.id, eventId: event.id, endpointId: endpoint.id };
      afterCommit(ctx, () =>
        deps.temporal.workflow.start<typeof webhookDeliveryWorkflow>('webhookDeliveryWorkflow', {
          taskQueue: deps.taskQueue,
          workflowId: webhookDeliveryWorkflowId(prepared, true),
          args: [prepared],
        }),
      );
    }
    [ctx.body] = await presentEvents(transaction, [event]);
  });

  return router;
}
