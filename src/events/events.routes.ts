import Router from '@koa/router';
import { callerOf, transactionOf, type AppContext, type AppState } from '../api/context';
import { idempotency } from '../api/middleware/idempotency';
import { transaction } from '../api/middleware/transaction';
import { inputOf, validate } from '../api/middleware/validate';
import { paginate } from '../api/pagination';
import { NoParameters } from '../api/schema';
import type { Db } from '../db/database';
import { findEvent, listEvents } from '../db/repositories/events.repository';
import { ResourceMissingError } from '../domain/errors';
import type { Logger } from '../logger';
import { queueRedeliveries } from '../webhooks/deliveries';
import { presentEvents } from './event.presenter';
import { streamEvents } from './event-stream';
import { ListEventsQuery, StreamEventsQuery } from './events.schema';

export function eventRoutes(deps: { db: Db; logger: Logger }): Router<AppState> {
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

  router.get('/events/stream', validate(StreamEventsQuery), streamEvents(deps));

  router.get('/events/:id', async (ctx) => {
    [ctx.body] = await presentEvents(deps.db, [await eventOf(ctx)]);
  });

  /** Delivers the event again to every endpoint that subscribes to it now, as new, recorded redeliveries. */
  router.post('/events/:id/resend', validate(NoParameters), transaction(deps.db), idempotency(), async (ctx) => {
    const event = await eventOf(ctx);
    await queueRedeliveries(transactionOf(ctx), event);
    [ctx.body] = await presentEvents(transactionOf(ctx), [event]);
  });

  return router;
}
