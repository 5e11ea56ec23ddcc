import Router from '@koa/router';
import { callerOf, transactionOf, type AppContext, type AppState } from '../api/context';
import { idempotency } from '../api/middleware/idempotency';
import { transaction } from '../api/middleware/transaction';
import { inputOf } from '../api/middleware/validate';
import { route, streamed } from '../api/operation';
import { paginate } from '../api/pagination';
import type { Db } from '../db/database';
import { findEvent, listEvents } from './events.repository';
import { ResourceMissingError } from '../domain/errors';
import { typesMatching } from '../domain/events';
import type { RateLimitSettings } from '../domain/rate-limits';
import type { Logger } from '../logger';
import { resend } from './emitter';
import { presentEvents } from './event.presenter';
import { eventOperations as operations } from './events.schema';
import { streamEvents } from './event-stream';

export function eventRoutes(deps: { db: Db; logger: Logger; rateLimits: Pick<RateLimitSettings, 'eventStreamsPerMerchant'> }): Router<AppState> {
  const stream = streamEvents({ ...deps, eventStreamsPerMerchant: deps.rateLimits.eventStreamsPerMerchant });
  const router = new Router<AppState>();

  const eventOf = async (ctx: AppContext) => {
    const id = ctx.params.id ?? '';
    const event = await findEvent(deps.db, callerOf(ctx), id);
    if (!event) throw new ResourceMissingError(`No such event: '${id}'`, 'id');
    return event;
  };

  route(router, operations.list, async (ctx) => {
    const caller = callerOf(ctx);
    const { type, object_id: objectId, ...page } = inputOf(ctx, operations.list.query);
    return paginate(page, {
      fetch: (window) => listEvents(deps.db, caller, { types: type && typesMatching(type), objectId }, window),
      exists: async (id) => (await findEvent(deps.db, caller, id)) !== undefined,
      present: (rows) => presentEvents(deps.db, rows),
    });
  });

  route(router, operations.stream, async (ctx) => {
    await stream(ctx);
    return streamed;
  });

  route(router, operations.retrieve, async (ctx) => {
    const [event] = await presentEvents(deps.db, [await eventOf(ctx)]);
    return event!;
  });

  route(router, operations.resend, transaction(deps.db), idempotency(), async (ctx) => {
    const event = await eventOf(ctx);
    await resend(transactionOf(ctx), event);
    const [resent] = await presentEvents(transactionOf(ctx), [event]);
    return resent!;
  });

  return router;
}
